using MemWatch.Probes.Attribution;

namespace MemWatch.Probes.Tests.Attribution;

public sealed class TracepointFormatTests
{
    // /sys/kernel/tracing/events/syscalls/sys_enter_madvise/format on Linux 6.18.
    private const string Madvise = """
        name: sys_enter_madvise
        ID: 612
        format:
        	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
        	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
        	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
        	field:int common_pid;	offset:4;	size:4;	signed:1;

        	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
        	field:unsigned long start;	offset:16;	size:8;	signed:0;
        	field:size_t len_in;	offset:24;	size:8;	signed:0;
        	field:int behavior;	offset:32;	size:8;	signed:0;

        print fmt: "start: 0x%08lx, len_in: 0x%08lx, behavior: 0x%08lx", ((unsigned long)(REC->start)), ((unsigned long)(REC->len_in)), ((unsigned long)(REC->behavior))
        """;

    [Fact]
    public void Parse_RealFormat_GivesIdAndFieldOffsets()
    {
        TracepointFormat f = TracepointFormat.Parse(Madvise, "format");
        Assert.Equal(612, f.Id);
        Assert.True(f.TryGetField("len_in", out int offset, out int size));
        Assert.Equal((24, 8), (offset, size));
        Assert.True(f.TryGetField("behavior", out offset, out _));
        Assert.Equal(32, offset);
        Assert.False(f.TryGetField("len", out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("name: x\nformat:\n")]
    [InlineData("ID: 1\n\tfield:int a;\toffset:x;\tsize:4;")]
    [InlineData("ID: -3\n")]
    public void Parse_Garbage_Throws(string text)
        => Assert.Throws<ProcParseException>(() => TracepointFormat.Parse(text, "format"));
}
