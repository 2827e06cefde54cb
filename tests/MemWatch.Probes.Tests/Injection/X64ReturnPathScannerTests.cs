using System.Diagnostics;
using System.Globalization;
using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Tests.Injection;

public sealed class X64ReturnPathScannerTests
{
    [Fact]
    public void FindCapture_RegisterForm_PreferredOverMemoryForm()
    {
        byte[] code =
        [
            0x90, 0x48, 0x89, 0x43, 0x28, 0x5b, 0xc3, // mov %rax,0x28(%rbx); pop %rbx; ret
            0xcc, 0x48, 0x89, 0xc2, 0x41, 0x5c, 0x48, 0x83, 0xc4, 0x10, 0xc3, // mov %rax,%rdx; pop %r12; add $16,%rsp; ret
        ];
        int at = X64ReturnPathScanner.FindCapture(code, out int stack, out int reg, out bool toMemory, out int disp);
        Assert.Equal(8, at);
        Assert.Equal(24, stack);
        Assert.Equal(2, reg);
        Assert.False(toMemory);
        Assert.Equal(0, disp);
    }

    [Fact]
    public void FindCapture_OnlyMemoryForm_ReturnsBaseAndDisplacement()
    {
        byte[] code = [0x48, 0x89, 0x83, 0x90, 0x00, 0x00, 0x00, 0x48, 0x83, 0xc4, 0x18, 0x5b, 0x5d, 0xc3];
        int at = X64ReturnPathScanner.FindCapture(code, out int stack, out int reg, out bool toMemory, out int disp);
        Assert.Equal(0, at);
        Assert.True(toMemory);
        Assert.Equal(3, reg);
        Assert.Equal(0x90, disp);
        Assert.Equal(0x18 + 16, stack);
    }

    [Theory]
    [InlineData(new byte[] { 0x48, 0x89, 0xc1, 0xc3 })] // into rcx: clobbered by syscall
    [InlineData(new byte[] { 0x49, 0x89, 0xc3, 0xc3 })] // into r11: clobbered by syscall
    [InlineData(new byte[] { 0x48, 0x89, 0xc7, 0x5f, 0xc3 })] // into rdi, then pop %rdi overwrites it
    [InlineData(new byte[] { 0x48, 0x89, 0x07, 0xc3 })] // store through rdi: not callee-saved
    [InlineData(new byte[] { 0x48, 0x89, 0x05, 0, 0, 0, 0, 0xc3 })] // rip-relative
    [InlineData(new byte[] { 0x48, 0x89, 0xc3, 0x5c, 0xc3 })] // pop %rsp
    [InlineData(new byte[] { 0x48, 0x89, 0xd3, 0xc3 })] // source is rdx, not rax
    [InlineData(new byte[] { 0x48, 0x89, 0xc3, 0x90, 0xc3 })] // nop is not in the accepted tail
    public void FindCapture_UnusableSequence_NotFound(byte[] code)
    {
        Assert.Equal(-1, X64ReturnPathScanner.FindCapture(code, out _, out _, out _, out _));
    }

    [Fact]
    public void FindRestorer_InstalledLibc_MatchesDebugSymbolRestoreRt()
    {
        const string libcPath = "/lib/x86_64-linux-gnu/libc.so.6";
        (long fileOffset, long vaddr, long size) = ExecutableSegment(libcPath);
        byte[] text = File.ReadAllBytes(libcPath).AsSpan((int)fileOffset, (int)size).ToArray();
        int at = X64ReturnPathScanner.FindRestorer(text);
        Assert.True(at >= 0);
        Assert.Equal(RestoreRtFromDebugSymbols(libcPath), vaddr + at);
    }

    [Fact]
    public void FindCapture_InstalledLibc_ObjdumpShowsMovFromRaxThenRet()
    {
        const string libcPath = "/lib/x86_64-linux-gnu/libc.so.6";
        (long fileOffset, long vaddr, long size) = ExecutableSegment(libcPath);
        byte[] text = File.ReadAllBytes(libcPath).AsSpan((int)fileOffset, (int)size).ToArray();
        int at = X64ReturnPathScanner.FindCapture(text, out _, out _, out _, out _);
        Assert.True(at >= 0);
        long address = vaddr + at;
        string[] lines = Run("objdump", $"-d --no-show-raw-insn --start-address=0x{address:x} --stop-address=0x{address + 32:x} {libcPath}")
            .Split('\n').Where(l => l.Contains(":\t", StringComparison.Ordinal)).ToArray();
        Assert.Matches(@"mov\s+%rax,", lines[0]);
        Assert.Contains(lines.Take(10), l => l.TrimEnd().EndsWith("ret", StringComparison.Ordinal));
    }

    private static (long FileOffset, long Vaddr, long Size) ExecutableSegment(string path)
    {
        foreach (string line in Run("readelf", $"-lW {path}").Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 8 && f[0] == "LOAD" && line.Contains(" R E ", StringComparison.Ordinal))
            {
                return (Convert.ToInt64(f[1], 16), Convert.ToInt64(f[2], 16), Convert.ToInt64(f[4], 16));
            }
        }

        throw new InvalidOperationException("no executable PT_LOAD");
    }

    private static long RestoreRtFromDebugSymbols(string path)
    {
        string buildId = Run("readelf", $"-n {path}").Split('\n')
            .Select(l => l.Trim()).First(l => l.StartsWith("Build ID:", StringComparison.Ordinal))[9..].Trim();
        string debug = $"/usr/lib/debug/.build-id/{buildId[..2]}/{buildId[2..]}.debug";
        string symbol = Run("nm", debug).Split('\n').First(l => l.EndsWith(" __restore_rt", StringComparison.Ordinal));
        return long.Parse(symbol.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    private static string Run(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true };
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }
}
