namespace MemWatch.Probes.Allocators;

/// <summary>
/// One <c>&lt;size&gt;</c> or <c>&lt;unsorted&gt;</c> element of glibc's malloc_info(3) output: the free chunks of one bin.
/// For regular bins glibc prints raw chunk size words, so <c>From</c>, <c>To</c> and <c>TotalBytes</c> include the low
/// flag bits (e.g. 193 for a 192-byte chunk with PREV_INUSE); fastbin entries print <c>from = size - 15</c>, <c>to = size</c>.
/// </summary>
public readonly record struct MallocInfoBin(ulong From, ulong To, ulong TotalBytes, ulong Count, MallocInfoBinKind Kind);
