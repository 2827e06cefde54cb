using MemWatch.Probes.Attribution;

namespace MemWatch.IntegrationTests.Attribution;

/// <summary>The workloads of tests/workloads/attribution and dotnet/native_leak, each with the function that leaks.</summary>
internal static class AttributionCorpus
{
    /// <summary>In-process captures run one at a time: a test that counts this process's open files sees only its own.</summary>
    public const string Collection = "attribution captures";

    public const string Sites = "attribution/attr_sites.c";

    public static Workload Start(string scenario) => scenario switch
    {
        "cxx-inlined" => Workload.Start("attribution/attr_inline.cc", extraFlags: "-O2"),
        "library" => Workload.Start(Sites, "library", extraFlags: LibraryFlags()),
        "dotnet-native" => DotNetWorkload.Start("native_leak", new Dictionary<string, string> { ["DOTNET_PerfMapEnabled"] = "1" }),
        _ => Workload.Start(Sites, scenario),
    };

    /// <summary>The function the top site must hold for each scenario (C++: the caller the leaking method is inlined into).</summary>
    public static string LeakingFunction(string scenario) => scenario switch
    {
        "paths" or "churn" => "cache_insert",
        "thread" => "stash_result",
        "library" => "lib_remember",
        "cxx-inlined" => "handle_request",
        "dotnet-native" => "SessionCache::Remember",
        _ => throw new ArgumentException(scenario),
    };

    /// <summary>Functions that must not appear in the top site: the churning paths of that scenario.</summary>
    public static string[] ChurningFunctions(string scenario) => scenario switch
    {
        "paths" => ["parse_request", "render_page"],
        "churn" or "thread" or "library" => ["parse_request", "churn_buffers"],
        "cxx-inlined" => ["format_reply"],
        "dotnet-native" => ["RequestParser"],
        _ => [],
    };

    public static bool TopSiteHas(AttributionResult r, string function)
        => r.HasGrowth && r.Sites.Count > 0 && r.Sites[0].Frames.Any(f => f.Function.Contains(function, StringComparison.Ordinal));

    public static string Describe(AttributionResult r)
        => $"growth {r.HasGrowth} ({r.NoGrowthReason}), {r.Bytes} B, {r.Events} events, lost {r.LostEvents}, faulted {r.FaultedBytes}, released {r.ReleasedBytes}, rss {r.RssAnonGrowthBytes}; sites: "
            + string.Join(" | ", r.Sites.Take(3).Select(s => $"{s.Bytes} B: {string.Join(" <- ", s.Frames.Take(7).Select(f => f.Function))}"));

    /// <summary>Builds libattrleak.so and returns the gcc flags that link attr_sites against it (-DWITH_LIB).</summary>
    private static string LibraryFlags()
    {
        string lib = Workload.Build("attribution/attr_leaklib.c", "-shared -fPIC");
        string dir = Path.Combine(Path.GetDirectoryName(lib)!, "lib");
        Directory.CreateDirectory(dir);
        string so = Path.Combine(dir, "libattrleak.so");
        if (!File.Exists(so))
        {
            File.Copy(lib, so + ".tmp", overwrite: true);
            File.Move(so + ".tmp", so, overwrite: true);
        }

        return $"-DWITH_LIB -L\"{dir}\" -lattrleak -Wl,-rpath,\"{dir}\"";
    }
}
