using System.Text;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Tests.Support;

namespace MemWatch.Probes.Tests.ProcFs;

public sealed class BootIdTests
{
    [Fact]
    public void TryRead_ThisKernel_ReturnsTheFileWithoutNewline()
    {
        Assert.True(BootId.TryRead(new ProcFileSystem(), new FileBuffer(), out BootId? id));
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").TrimEnd('\n'), id.Value);
    }

    [Fact]
    public void TryRead_RootWithoutTheFile_ReturnsFalse() =>
        Assert.False(BootId.TryRead(ProcFixtures.Fs, new FileBuffer(), out _));

    [Fact]
    public void Parse_Uuid_ReturnsIt() =>
        Assert.Equal("0f5d2b0e-7c1f-4f0a-9a3e-2b8f6d1c4e7a", BootId.Parse("0f5d2b0e-7c1f-4f0a-9a3e-2b8f6d1c4e7a\n"u8, "boot_id").Value);

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("0f5d2b0e-7c1f-4f0a-9a3e-2b8f6d1c4e7a")]
    [InlineData("0f5d2b0e-7c1f-4f0a-9a3e-2b8f6d1c4e7a\nx\n")]
    [InlineData("not a uuid\n")]
    public void Parse_Malformed_ThrowsWithFile(string text)
    {
        var e = Assert.Throws<ProcParseException>(() => BootId.Parse(Encoding.UTF8.GetBytes(text), "/proc/sys/kernel/random/boot_id"));
        Assert.StartsWith("/proc/sys/kernel/random/boot_id:", e.Message, StringComparison.Ordinal);
    }
}
