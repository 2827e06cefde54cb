namespace MemWatch.Probes.SafePoints;

/// <summary>
/// One lock word read while the thread was stopped. <see cref="Value"/> is the futex word (0 free); <see cref="Owner"/>
/// is the owner a recursive libc lock records (an <c>_IO_lock_t</c>'s <c>owner</c>: the holder's <c>struct pthread</c>), 0 when none.
/// </summary>
public readonly record struct LockWord(string Name, ulong Address, int Value, ulong Owner)
{
    public bool IsFree => Value == 0;
}
