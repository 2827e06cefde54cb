using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace MemWatch.TestSupport;

/// <summary>
/// .NET target programs from tests/workloads/dotnet/NAME, built with <c>dotnet build</c> once per source version into a
/// temporary directory (never in the source tree) and started with the <see cref="Workload"/> protocol.
/// </summary>
public static class DotNetWorkload
{
    private static readonly SemaphoreSlim s_buildLock = new(1, 1);

    /// <summary>Builds the project (cached by a hash of its files) and returns the path of its dll.</summary>
    public static string Build(string name)
    {
        string srcDir = Path.Combine(Workload.SourceDirectory, "dotnet", name);
        string[] files = Directory.GetFiles(srcDir).Order(StringComparer.Ordinal).ToArray();
        var all = new StringBuilder();
        foreach (string f in files)
        {
            all.Append(Path.GetFileName(f)).Append('\0').Append(File.ReadAllText(f)).Append('\0');
        }

        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(all.ToString())))[..16];
        string dir = Path.Combine(Path.GetTempPath(), "memwatch-workloads", "dotnet-" + name + "-" + hash);
        string dll = Path.Combine(dir, "out", name + ".dll");
        s_buildLock.Wait();
        try
        {
            if (File.Exists(dll))
            {
                return dll;
            }

            string work = Path.Combine(dir, "src");
            Directory.CreateDirectory(work);
            foreach (string f in files)
            {
                File.Copy(f, Path.Combine(work, Path.GetFileName(f)), overwrite: true);
            }

            var psi = new ProcessStartInfo("dotnet")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                WorkingDirectory = work,
            };
            foreach (string a in new[] { "build", "-c", "Release", "-nologo", "-v", "quiet", "-o", Path.Combine(dir, "out.tmp") })
            {
                psi.ArgumentList.Add(a);
            }

            psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            psi.Environment["DOTNET_NOLOGO"] = "1";
            using Process build = Process.Start(psi)!;
            Task<string> stderr = build.StandardError.ReadToEndAsync();
            string stdout = build.StandardOutput.ReadToEnd();
            build.WaitForExit();
            if (build.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet build of {name} failed:\n{stdout}\n{stderr.Result}");
            }

            if (Directory.Exists(Path.Combine(dir, "out")))
            {
                Directory.Delete(Path.Combine(dir, "out"), recursive: true);
            }

            Directory.Move(Path.Combine(dir, "out.tmp"), Path.Combine(dir, "out"));
            return dll;
        }
        finally
        {
            s_buildLock.Release();
        }
    }

    /// <summary>Builds and starts a .NET workload under <c>dotnet</c>, optionally under a wrapper command (e.g. unshare).</summary>
    public static Workload Start(string name, IDictionary<string, string>? environment = null, string wrapper = "")
    {
        string dll = Build(name);
        return Workload.StartExecutable($"{wrapper} dotnet \"{dll}\"", environment: environment, readyTimeout: TimeSpan.FromSeconds(120), label: name);
    }
}
