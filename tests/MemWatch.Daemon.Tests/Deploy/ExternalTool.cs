using System.Diagnostics;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>Runs a command-line tool (systemd-analyze, promtool, kubectl, setpriv) and captures what it says.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => StandardOutput + StandardError;
    }

    public static Result Run(string program, IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null, string? standardInput = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = standardInput is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // No pager, no colours, no locale-dependent number formats in what we parse.
        psi.Environment["SYSTEMD_PAGER"] = "";
        psi.Environment["SYSTEMD_COLORS"] = "0";
        psi.Environment["LC_ALL"] = "C.UTF-8";

        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            p.StandardInput.Write(standardInput);
            p.StandardInput.Close();
        }

        TimeSpan limit = timeout ?? TimeSpan.FromMinutes(2);
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {limit}");
        }

        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
