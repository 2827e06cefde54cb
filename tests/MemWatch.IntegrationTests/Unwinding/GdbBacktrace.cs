using System.Diagnostics;
using System.Globalization;

namespace MemWatch.IntegrationTests.Unwinding;

/// <summary>
/// The independent extraction the unwinder is checked against: gdb attached to the process (with libc6-dbg's debug
/// files), every thread's frames from gdb's own unwinder, innermost first, leaving out inlined frames (they share their
/// caller's pc) and the tail-call frames gdb reconstructs from DWARF call-site records (no return address of theirs is on
/// the stack) and going past main and the entry point.
/// </summary>
internal static class GdbBacktrace
{
    private const string Script = """
        set backtrace past-main on
        set backtrace past-entry on
        set backtrace limit 200
        python
        import gdb
        for t in gdb.selected_inferior().threads():
            t.switch()
            f = gdb.newest_frame()
            while f is not None:
                if f.type() not in (gdb.INLINE_FRAME, gdb.TAILCALL_FRAME):
                    name = f.name() or "?"
                    print("FRAME %d 0x%x %d %s" % (t.ptid[1], f.pc(), 1 if f.type() == gdb.SIGTRAMP_FRAME else 0, name))
                f = f.older()
        end
        """;

    /// <summary>Frames per thread id: (pc, is the signal trampoline, function name).</summary>
    public static Dictionary<int, List<(ulong Pc, bool SigTramp, string Name)>> Read(int pid)
    {
        string script = Path.Combine(Path.GetTempPath(), $"memwatch-unwind-gdb-{Guid.NewGuid():N}.gdb");
        File.WriteAllText(script, Script);
        try
        {
            var psi = new ProcessStartInfo("gdb", $"-nx -batch -p {pid} -x \"{script}\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process gdb = Process.Start(psi)!;
            Task<string> err = gdb.StandardError.ReadToEndAsync();
            string output = gdb.StandardOutput.ReadToEnd();
            gdb.WaitForExit();
            var result = new Dictionary<int, List<(ulong, bool, string)>>();
            foreach (string line in output.Split('\n'))
            {
                string[] f = line.Split(' ', 5);
                if (f.Length < 5 || f[0] != "FRAME")
                {
                    continue;
                }

                int tid = int.Parse(f[1], CultureInfo.InvariantCulture);
                ulong pc = ulong.Parse(f[2].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (!result.TryGetValue(tid, out List<(ulong, bool, string)>? frames))
                {
                    result[tid] = frames = [];
                }

                frames.Add((pc, f[3] == "1", f[4].Trim()));
            }

            if (result.Count == 0)
            {
                throw new InvalidOperationException($"gdb printed no frames for process {pid}: {err.Result}");
            }

            return result;
        }
        finally
        {
            File.Delete(script);
        }
    }
}
