namespace MemWatch.Probes.ProcFs;

/// <summary>
/// What <see cref="ProcStatus.ParseStopFields"/> reads from a thread's status file: its process (<c>Tgid</c>), that
/// process's thread count (<c>Threads</c>) and the thread's seccomp mode (<c>Seccomp</c>: 0 none, 1 strict, 2 filter;
/// null on kernels built without CONFIG_SECCOMP).
/// </summary>
internal readonly record struct ThreadStopFields(int Tgid, int Threads, int? Seccomp);
