using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Tests.Injection;

/// <summary>Checks the C# layouts and offsets against the real headers by compiling static_asserts with gcc.</summary>
public sealed class X64LayoutTests
{
    [Fact]
    public void UserRegs_MatchesSysUserHeader_GccAcceptsStaticAsserts()
    {
        var c = new StringBuilder("#include <stddef.h>\n#include <sys/user.h>\n");
        c.AppendLine($"_Static_assert(sizeof(struct user_regs_struct) == {Marshal.SizeOf<UserRegs>()}, \"size\");");
        c.AppendLine($"_Static_assert(sizeof(struct user_regs_struct) == {UserRegs.Size}, \"Size constant\");");
        foreach (var field in typeof(UserRegs).GetFields().Where(f => !f.IsStatic && !f.IsLiteral))
        {
            string cName = field.Name switch
            {
                "OrigRax" => "orig_rax",
                "FsBase" => "fs_base",
                "GsBase" => "gs_base",
                _ => field.Name.ToLowerInvariant(),
            };
            c.AppendLine($"_Static_assert(offsetof(struct user_regs_struct, {cName}) == {Marshal.OffsetOf<UserRegs>(field.Name)}, \"{cName}\");");
        }

        Assert.Equal(27, typeof(UserRegs).GetFields().Count(f => !f.IsStatic && !f.IsLiteral));
        AssertCompiles(c.ToString());
    }

    [Fact]
    public void SignalFrameOffsets_MatchKernelUapiHeaders_GccAcceptsStaticAsserts()
    {
        var c = new StringBuilder("#include <stddef.h>\n#include <asm/signal.h>\n#include <asm/sigcontext.h>\n#include <asm/ucontext.h>\n");
        void Check(string expr, int value) => c.AppendLine($"_Static_assert({expr} == {value}, \"{expr.Replace("\"", "", StringComparison.Ordinal)}\");");
        Check("offsetof(struct ucontext, uc_flags)", X64CallAbi.UcFlagsOffset);
        Check("offsetof(struct ucontext, uc_link)", X64CallAbi.UcLinkOffset);
        Check("offsetof(struct ucontext, uc_stack)", X64CallAbi.UcStackOffset);
        Check("offsetof(struct ucontext, uc_mcontext)", X64CallAbi.UcMcontextOffset);
        Check("offsetof(struct ucontext, uc_sigmask)", X64CallAbi.UcSigmaskOffset);
        Check("sizeof(struct ucontext)", X64CallAbi.UcontextSize);
        Check("sizeof(struct sigcontext)", X64CallAbi.SigcontextSize);
        (string Field, int Offset)[] sc =
        [
            ("r8", X64CallAbi.ScR8), ("r9", X64CallAbi.ScR9), ("r10", X64CallAbi.ScR10), ("r11", X64CallAbi.ScR11),
            ("r12", X64CallAbi.ScR12), ("r13", X64CallAbi.ScR13), ("r14", X64CallAbi.ScR14), ("r15", X64CallAbi.ScR15),
            ("rdi", X64CallAbi.ScRdi), ("rsi", X64CallAbi.ScRsi), ("rbp", X64CallAbi.ScRbp), ("rbx", X64CallAbi.ScRbx),
            ("rdx", X64CallAbi.ScRdx), ("rax", X64CallAbi.ScRax), ("rcx", X64CallAbi.ScRcx), ("rsp", X64CallAbi.ScRsp),
            ("rip", X64CallAbi.ScRip), ("eflags", X64CallAbi.ScEflags), ("cs", X64CallAbi.ScCs), ("gs", X64CallAbi.ScGs),
            ("fs", X64CallAbi.ScFs), ("ss", X64CallAbi.ScSs), ("fpstate", X64CallAbi.ScFpstate),
        ];
        foreach ((string field, int offset) in sc)
        {
            Check($"offsetof(struct sigcontext, {field})", offset);
        }

        Check("offsetof(struct _fpstate_64, sw_reserved)", X64CallAbi.SwBytesOffset);
        Check("offsetof(struct _xstate, xstate_hdr)", X64CallAbi.XstateHeaderOffset);
        Check("FP_XSTATE_MAGIC1", unchecked((int)X64CallAbi.FpXstateMagic1));
        Check("FP_XSTATE_MAGIC2", unchecked((int)X64CallAbi.FpXstateMagic2));
        Check("offsetof(struct _fpx_sw_bytes, extended_size)", 4);
        Check("offsetof(struct _fpx_sw_bytes, xfeatures)", 8);
        Check("offsetof(struct _fpx_sw_bytes, xstate_size)", 16);
        Check("(UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS)", (int)X64CallAbi.UcFlags);
        AssertCompiles(c.ToString());
    }

    [Fact]
    public void AssertCompiles_WrongOffset_GccRejects()
    {
        var e = Assert.Throws<Xunit.Sdk.FailException>(() =>
            AssertCompiles("#include <stddef.h>\n#include <sys/user.h>\n_Static_assert(offsetof(struct user_regs_struct, rip) == 120, \"rip\");\n"));
        Assert.Contains("rip", e.Message, StringComparison.Ordinal);
    }

    private static void AssertCompiles(string source)
    {
        string dir = Directory.CreateTempSubdirectory("memwatch-layout").FullName;
        try
        {
            string file = Path.Combine(dir, "layout.c");
            File.WriteAllText(file, source);
            var psi = new ProcessStartInfo("gcc", $"-fsyntax-only -std=gnu11 \"{file}\"") { RedirectStandardError = true };
            using Process gcc = Process.Start(psi)!;
            string stderr = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0)
            {
                Assert.Fail($"gcc rejected the layout:\n{stderr}\n{source}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
