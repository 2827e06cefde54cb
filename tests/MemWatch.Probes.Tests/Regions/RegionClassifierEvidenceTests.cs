using System.Buffers.Binary;
using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Regions;

namespace MemWatch.Probes.Tests.Regions;

/// <summary>The memory-evidence rules of the classifier, on a synthetic address space with a fake /proc/PID/mem.</summary>
public sealed class RegionClassifierEvidenceTests
{
    private sealed class FakeMemory : IProcessMemory
    {
        private readonly Dictionary<ulong, byte[]> _words = [];

        public void Put(ulong address, ulong first, ulong second, ulong third = 0)
        {
            byte[] b = new byte[24];
            BinaryPrimitives.WriteUInt64LittleEndian(b, first);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), second);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), third);
            _words[address] = b;
        }

        public bool TryRead(ulong address, Span<byte> destination)
        {
            if (!_words.TryGetValue(address, out byte[]? b))
            {
                destination.Clear();
                return true;
            }

            b.AsSpan(0, destination.Length).CopyTo(destination);
            return true;
        }
    }

    private static string Mapping(ulong start, ulong end, string perms, string path = "", ulong rssKb = 4) =>
        $"{start:x}-{end:x} {perms} 00000000 00:00 0 {path}\nSize: {(end - start) / 1024} kB\nRss: {rssKb} kB\nPss: {rssKb} kB\n";

    private const ulong A = 0x7f0000000000;
    private const ulong M64 = 64UL << 20;

    private static (string Text, FakeMemory Memory, ulong[] StackPointers) AddressSpace()
    {
        var memory = new FakeMemory();
        var text = new StringBuilder();
        // Arena 1: heap at A (rw 1 MiB + ---p remainder), second heap at A+64M (full 64 MiB rw) pointing back to arena 1.
        text.Append(Mapping(A, A + 0x100000, "rw-p")).Append(Mapping(A + 0x100000, A + M64, "---p"));
        memory.Put(A, A + 0x30, 0, 0x100000);
        text.Append(Mapping(A + M64, A + (2 * M64), "rw-p"));
        memory.Put(A + M64, A + 0x30, A, M64);
        // Arena 2 at A+128M.
        text.Append(Mapping(A + (2 * M64), A + (2 * M64) + 0x21000, "rw-p")).Append(Mapping(A + (2 * M64) + 0x21000, A + (3 * M64), "---p"));
        memory.Put(A + (2 * M64), A + (2 * M64) + 0x30, 0, 0x21000);
        // 64 MiB-aligned and arena-shaped, but no heap_info: not an arena.
        text.Append(Mapping(A + (3 * M64), A + (3 * M64) + 0x1000, "rw-p")).Append(Mapping(A + (3 * M64) + 0x1000, A + (4 * M64), "---p"));
        // One mmapped chunk of 4 MiB + 4 KiB; then two merged chunks of 128 KiB + 4 KiB each with 12 KiB of older
        // anonymous memory merged above them.
        ulong c = A + (5 * M64);
        text.Append(Mapping(c, c + 0x401000, "rw-p"));
        memory.Put(c, 0, 0x401000 | 0x2);
        ulong d = A + (6 * M64);
        text.Append(Mapping(d, d + 0x45000, "rw-p"));
        memory.Put(d, 0, 0x21000 | 0x2);
        memory.Put(d + 0x21000, 0, 0x21000 | 0x2);
        // A 256 KiB anonymous mapping whose header describes only a quarter of it: anonymous.
        ulong e = A + (7 * M64);
        text.Append(Mapping(e, e + 0x40000, "rw-p"));
        memory.Put(e, 0, 0x10000 | 0x2);
        // Guard + stack holding a blocked thread's SP; guard + 8 MiB stack of a running thread; a stack without guard.
        ulong s = A + (8 * M64);
        text.Append(Mapping(s, s + 0x1000, "---p")).Append(Mapping(s + 0x1000, s + 0x801000, "rw-p"));
        text.Append(Mapping(s + 0x900000, s + 0x901000, "---p")).Append(Mapping(s + 0x901000, s + 0x1101000, "rw-p"));
        text.Append(Mapping(s + 0x2000000, s + 0x2010000, "rw-p"));
        text.Append(Mapping(0x7ffd00000000, 0x7ffd00021000, "rw-p", "[stack]"));
        return (text.ToString(), memory, [s + 0x800000 - 0x100, s + 0x2008000, 0x7ffd00020000]);
    }

    [Fact]
    public void Classify_WithMemory_CountsDistinctArenasAndConfirmsChunks()
    {
        (string text, FakeMemory memory, ulong[] sps) = AddressSpace();
        SmapsReader reader = Smaps.Parse(Encoding.ASCII.GetBytes(text), "smaps");

        MemoryLayout layout = new RegionClassifier().Classify(ref reader, memory, sps);

        Assert.Equal(RegionEvidence.Memory, layout.Evidence);
        Assert.Equal(2, layout.ArenaCount);
        Assert.Equal(5, layout[RegionKind.Arena].Count);
        Assert.Equal(3 * M64, layout[RegionKind.Arena].SizeBytes);
        Assert.Equal(2, layout[RegionKind.MmapChunk].Count);
        Assert.Equal(0x401000UL + 0x45000, layout[RegionKind.MmapChunk].SizeBytes);
        Assert.Equal(6, layout[RegionKind.Stack].Count);
        Assert.Equal(3, layout.ThreadsWithStackPointer);
        Assert.Equal(3, layout.ThreadStacksFound);
        Assert.Equal(3, layout[RegionKind.Anon].Count);
    }

    [Fact]
    public void Classify_LayoutOnly_CountsArenaShapedHeaps()
    {
        (string text, _, _) = AddressSpace();
        SmapsReader reader = Smaps.Parse(Encoding.ASCII.GetBytes(text), "smaps");

        MemoryLayout layout = new RegionClassifier().Classify(ref reader, null, []);

        Assert.Equal(RegionEvidence.Layout, layout.Evidence);
        // Four 64 MiB-shaped heaps: one arena owning two heaps counts twice, and the shaped impostor counts too.
        Assert.Equal(4, layout.ArenaCount);
        Assert.Equal(0, layout[RegionKind.MmapChunk].Count);
        // Guard pattern only: the SP-only stack without a guard is not found.
        Assert.Equal(5, layout[RegionKind.Stack].Count);
    }

    // glibc maps a heap right above a full one (aligned_heap_area) and the kernel merges the two rw parts into one
    // mapping: seen on glibc 2.36 when a thread filled its first heap before any other heap was created.
    private static (string Text, FakeMemory Memory) MergedHeaps()
    {
        var memory = new FakeMemory();
        var text = new StringBuilder();
        // Arena 1: a full heap and its own second heap (16 MiB rw) in one mapping, then the second heap's remainder.
        text.Append(Mapping(A, A + M64 + 0x1000000, "rw-p", rssKb: 80 * 1024)).Append(Mapping(A + M64 + 0x1000000, A + (2 * M64), "---p"));
        memory.Put(A, A + 0x30, 0, M64);
        memory.Put(A + M64, A + 0x30, A, 0x1000000);
        // Arena 2's full heap merged with arena 3's first heap.
        ulong b = A + (2 * M64);
        text.Append(Mapping(b, b + M64 + 0x21000, "rw-p")).Append(Mapping(b + M64 + 0x21000, b + (2 * M64), "---p"));
        memory.Put(b, b + 0x30, 0, M64);
        memory.Put(b + M64, b + M64 + 0x30, 0, 0x21000);
        // 128 MiB aligned rw with a heap_info at its start only: not heaps.
        ulong c = A + (4 * M64);
        text.Append(Mapping(c, c + (2 * M64), "rw-p"));
        memory.Put(c, c + 0x30, 0, M64);
        return (text.ToString(), memory);
    }

    [Fact]
    public void Classify_WithMemory_KernelMergedHeaps_CountsEveryArena()
    {
        (string text, FakeMemory memory) = MergedHeaps();
        SmapsReader reader = Smaps.Parse(Encoding.ASCII.GetBytes(text), "smaps");

        MemoryLayout layout = new RegionClassifier().Classify(ref reader, memory, []);

        Assert.Equal(3, layout.ArenaCount);
        Assert.Equal(4 * M64, layout[RegionKind.Arena].SizeBytes);
        Assert.True(layout[RegionKind.Arena].RssBytes >= 80UL << 20);
        Assert.Equal(2 * M64, layout[RegionKind.Anon].SizeBytes);
    }

    [Fact]
    public void Classify_LayoutOnly_KernelMergedHeaps_CountsEveryHeap()
    {
        (string text, _) = MergedHeaps();
        SmapsReader reader = Smaps.Parse(Encoding.ASCII.GetBytes(text), "smaps");

        MemoryLayout layout = new RegionClassifier().Classify(ref reader, null, []);

        // Two heaps per merged mapping, and the 128 MiB impostor ends on a boundary: six by layout.
        Assert.Equal(6, layout.ArenaCount);
    }

    [Theory]
    [InlineData("[heap]", "rw-p", RegionKind.Heap)]
    [InlineData("[stack]", "rw-p", RegionKind.Stack)]
    [InlineData("[vdso]", "r-xp", RegionKind.Kernel)]
    [InlineData("[vvar_vclock]", "r--p", RegionKind.Kernel)]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6", "r-xp", RegionKind.FileCode)]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6", "rw-p", RegionKind.FileData)]
    [InlineData("/dev/shm/queue", "rw-s", RegionKind.Shmem)]
    [InlineData("/SYSV00000000 (deleted)", "rw-s", RegionKind.Shmem)]
    [InlineData("/memfd:doublemapper (deleted)", "r-xs", RegionKind.Shmem)]
    [InlineData("", "rw-s", RegionKind.Shmem)]
    [InlineData("/dev/zero (deleted)", "rw-s", RegionKind.Shmem)]
    [InlineData("[anon_shmem:pool]", "rw-s", RegionKind.Shmem)]
    [InlineData("[anon:my pool]", "rw-p", RegionKind.Anon)]
    [InlineData("", "rw-p", RegionKind.Anon)]
    public void Classify_PathAndSharing_GiveKind(string path, string perms, RegionKind kind)
    {
        SmapsReader reader = Smaps.Parse(Encoding.ASCII.GetBytes(Mapping(0x10000, 0x11000, perms, path)), "smaps");

        MemoryLayout layout = new RegionClassifier().Classify(ref reader, null, []);

        Assert.Equal(1, layout[kind].Count);
    }

    [Fact]
    public void RegionKindNames_AllKinds_HaveStableKebabNames()
    {
        string[] names = Enum.GetValues<RegionKind>().Select(k => k.ToName()).ToArray();

        Assert.Equal(
            ["heap", "arena", "mmap-chunk", "allocator-extent", "stack", "gc-heap", "file-code", "file-data", "shmem", "anon", "kernel"],
            names);
        foreach (RegionKind k in Enum.GetValues<RegionKind>())
        {
            Assert.True(RegionKindNames.TryParse(k.ToName(), out RegionKind back));
            Assert.Equal(k, back);
        }
    }
}
