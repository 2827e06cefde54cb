namespace MemWatch.Probes.Allocators;

/// <summary>Which of an arena's free lists a malloc_info(3) size element describes.</summary>
public enum MallocInfoBinKind
{
    Fast,
    Unsorted,
    Regular,
}
