using System.Diagnostics;
using System.Globalization;
using MemWatch.Probes.Symbols;
using MemWatch.Probes.Unwinding;

namespace MemWatch.Probes.Tests.Unwinding;

/// <summary>
/// The CFI parser and interpreter against an independent extraction: for every FDE of the installed libc, ld.so and
/// libstdc++, <c>readelf --debug-dump=frames-interp</c>'s table (CFA and each register's rule at each location) must be
/// what <see cref="CfaInterpreter"/> computes, and the <c>.eh_frame_hdr</c> search must find each FDE from any pc in it.
/// </summary>
public sealed class ReadelfFramesTests
{
    private static readonly Dictionary<string, int> s_registers = new(StringComparer.Ordinal)
    {
        ["rax"] = 0, ["rdx"] = 1, ["rcx"] = 2, ["rbx"] = 3, ["rsi"] = 4, ["rdi"] = 5, ["rbp"] = 6, ["rsp"] = 7,
        ["r8"] = 8, ["r9"] = 9, ["r10"] = 10, ["r11"] = 11, ["r12"] = 12, ["r13"] = 13, ["r14"] = 14, ["r15"] = 15, ["ra"] = 16,
    };

    [Theory]
    [InlineData("/lib/x86_64-linux-gnu/libc.so.6")]
    [InlineData("/lib64/ld-linux-x86-64.so.2")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libstdc++.so.6")]
    public void EveryRowMatchesReadelf(string path)
    {
        using ElfImage image = ElfImage.OpenFile(path);
        Assert.True(ElfFile.TryParse(image, out ElfFile? elf, out _));
        CfiTable table = CfiTable.Load(image, elf, new FileIdentity(elf.BuildId, 0, 0, 0, 0));
        var interpreter = new CfaInterpreter();
        int fdes = 0;
        int rows = 0;
        foreach (ReadelfFde expected in Readelf(path))
        {
            fdes++;
            Assert.True(table.TryFindFde(expected.PcBegin, out FrameDescriptionEntry fde, out CfiSection section), $"no FDE for 0x{expected.PcBegin:x}");
            Assert.Equal(expected.Offset, fde.Offset);
            Assert.Equal(expected.PcEnd, fde.PcEnd);
            Assert.True(table.TryFindFde(expected.PcEnd - 1, out FrameDescriptionEntry last, out _));
            Assert.Equal(expected.Offset, last.Offset);

            foreach ((ulong loc, string cfa, string[] rules) in expected.Rows)
            {
                rows++;
                Assert.True(interpreter.TryFindRow(section, fde, loc, out CfaRow row, out string? error), error);
                string where = $"{path} FDE {expected.Offset:x8} at 0x{loc:x}";
                Assert.True(cfa == Describe(row), $"{where}: CFA {Describe(row)}, readelf {cfa}");
                for (int i = 0; i < rules.Length; i++)
                {
                    if (s_registers.TryGetValue(expected.Columns[i], out int reg))
                    {
                        string ours = Describe(row.Registers[reg]);
                        Assert.True(Same(rules[i], ours), $"{where}: {expected.Columns[i]} {ours}, readelf {rules[i]}");
                    }
                }
            }
        }

        Assert.Equal(table.FdeCount, fdes);
        Assert.True(rows > 100, $"only {rows} rows compared");
    }

    private static bool Same(string readelf, string ours) => readelf == ours || (readelf == "u" && ours == "");

    private static string Describe(in CfaRow row)
        => row.CfaIsExpression ? "exp" : $"{Name(row.CfaRegister)}{(row.CfaOffset >= 0 ? "+" : "")}{row.CfaOffset}";

    private static string Describe(RegisterRule rule) => rule.Kind switch
    {
        RegisterRuleKind.Unspecified => "",
        RegisterRuleKind.Undefined => "u",
        RegisterRuleKind.SameValue => "s",
        RegisterRuleKind.Offset => $"c{(rule.Value >= 0 ? "+" : "")}{rule.Value}",
        RegisterRuleKind.ValOffset => $"v{(rule.Value >= 0 ? "+" : "")}{rule.Value}",
        RegisterRuleKind.Register => $"r{rule.Value}", // readelf: "r8 (r8)", the DWARF number then the name
        RegisterRuleKind.Expression => "exp",
        RegisterRuleKind.ValExpression => "vexp",
        _ => "?",
    };

    private static string Name(int register) => s_registers.FirstOrDefault(p => p.Value == register).Key ?? $"r{register}";

    private sealed record ReadelfFde(int Offset, ulong PcBegin, ulong PcEnd, string[] Columns, List<(ulong Loc, string Cfa, string[] Rules)> Rows);

    private static List<ReadelfFde> Readelf(string path)
    {
        var psi = new ProcessStartInfo("readelf", $"--debug-dump=frames-interp \"{path}\"") { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string[] lines = p.StandardOutput.ReadToEnd().Split('\n');
        p.WaitForExit();
        _ = err.Result;
        var result = new List<ReadelfFde>();
        ReadelfFde? current = null;
        foreach (string line in lines)
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 6 && f[3] == "FDE" && f[5].StartsWith("pc=", StringComparison.Ordinal))
            {
                string[] range = f[5][3..].Split("..");
                current = new ReadelfFde(Hex32(f[0]), Hex(range[0]), Hex(range[1]), [], []);
                result.Add(current);
            }
            else if (f.Length >= 2 && f[0] == "LOC" && current is not null)
            {
                current = current with { Columns = f[2..] };
                result[^1] = current;
            }
            else if (current is not null && f.Length >= 2 && f[0].Length == 16 && ulong.TryParse(f[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong loc))
            {
                // "r8 (r8)": a register rule's name in parentheses is a separate word; keep the number.
                current.Rows.Add((loc, f[1], [.. f[2..].Where(w => !w.StartsWith('('))]));
            }
            else if (f.Length >= 4 && f[3] == "CIE")
            {
                current = null;
            }
        }

        Assert.NotEmpty(result);
        return result;

        static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

        static int Hex32(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
