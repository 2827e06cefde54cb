using System.Diagnostics;

namespace MemWatch.IntegrationTests.Support;

/// <summary>Runs the real memwatch CLI (memwatch.dll copied beside the tests) as a child process.</summary>
public static class MemwatchCli
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "memwatch.dll");

    /// <param name="args">memwatch arguments.</param>
    /// <param name="prefix">A command and arguments to run dotnet under (e.g. setpriv to drop privileges).</param>
    public static Result Run(IEnumerable<string> args, TimeSpan? timeout = null, IEnumerable<string>? prefix = null)
    {
        Process p = Start(args, prefix);
        return Wait(p, timeout ?? TimeSpan.FromSeconds(120));
    }

    public static Process Start(IEnumerable<string> args, IEnumerable<string>? prefix = null)
    {
        List<string> command = [.. prefix ?? [], "dotnet", DllPath, .. args];
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(psi)!;
    }

    public static Result Wait(Process p, TimeSpan timeout)
    {
        using (p)
        {
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            Task<string> stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"memwatch did not finish within {timeout}");
            }

            return new Result(p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
