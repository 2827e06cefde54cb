using System.Globalization;

namespace MemWatch.TestSupport;

/// <summary>The managed_target workload and what it reports about itself (its <c>stats</c> answer).</summary>
public sealed class DotNetTarget : IDisposable
{
    public const string Name = "managed_target";

    private DotNetTarget(Workload workload)
    {
        Workload = workload;
    }

    public Workload Workload { get; }

    public int Pid => Workload.Pid;

    /// <summary>Starts the target; with a large gen0 budget garbage stays on the heap until something collects it.</summary>
    public static DotNetTarget Start(bool largeGen0 = false, IDictionary<string, string>? environment = null)
    {
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        if (largeGen0)
        {
            env["DOTNET_GCgen0size"] = "0x20000000";
        }

        return new DotNetTarget(DotNetWorkload.Start(Name, env));
    }

    /// <summary>Sends a command and parses the target's <c>key=value</c> figures from its answer.</summary>
    public Dictionary<string, long> Send(string command)
    {
        string answer = Workload.Send(command, TimeSpan.FromSeconds(120));
        var figures = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string word in answer.Split(' ').Skip(1))
        {
            int eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                figures[word[..eq]] = long.Parse(word.AsSpan(eq + 1), CultureInfo.InvariantCulture);
            }
        }

        return figures;
    }

    /// <summary>Sockets among the target's open files (the diagnostic listener plus one per open connection).</summary>
    public static int SocketCount(int pid)
    {
        int n = 0;
        foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true)
                {
                    n++;
                }
            }
            catch (IOException)
            {
                // Closed while listing.
            }
        }

        return n;
    }

    public void Dispose() => Workload.Dispose();
}
