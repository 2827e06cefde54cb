namespace MemWatch.Probes.Regions;

/// <summary>The stack pointers of a process's blocked threads, sorted, counted per address range.</summary>
internal sealed class StackPointers
{
    private readonly List<ulong> _sorted = [];

    public int Count => _sorted.Count;

    public void Reset(IReadOnlyList<ulong> stackPointers)
    {
        _sorted.Clear();
        _sorted.AddRange(stackPointers);
        _sorted.Sort();
    }

    /// <summary>How many stack pointers lie in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public int CountWithin(ulong start, ulong end)
    {
        if (_sorted.Count == 0)
        {
            return 0;
        }

        int i = _sorted.BinarySearch(start);
        if (i < 0)
        {
            i = ~i;
        }

        while (i > 0 && _sorted[i - 1] == start)
        {
            i--;
        }

        int n = 0;
        while (i < _sorted.Count && _sorted[i] < end)
        {
            n++;
            i++;
        }

        return n;
    }
}
