using System.Globalization;

namespace MemWatch.Probes.Runtimes;

/// <summary>
/// Finds the memory limit a process declares on its command line or in its environment (read once per process: they
/// do not change). Only the forms the programs themselves accept are recognised; anything else is no limit.
/// </summary>
public static class DeclaredLimits
{
    private const ulong MiB = 1UL << 20;

    /// <param name="runtime">The runtime recognised, if any.</param>
    /// <param name="comm">The process's comm (for servers without a runtime: memcached, redis-server).</param>
    /// <param name="arguments">The command line, argv[0] first.</param>
    /// <param name="environment">The environment; returns null for an unset variable.</param>
    public static DeclaredLimit? Find(RuntimeKind runtime, string comm, IReadOnlyList<string> arguments, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        return runtime switch
        {
            RuntimeKind.Jvm => Jvm(arguments, environment),
            RuntimeKind.Node => Node(arguments, environment),
            RuntimeKind.Go => environment("GOMEMLIMIT") is { } v && ParseGoBytes(v) is { } b ? new DeclaredLimit(b, "GOMEMLIMIT=" + v, DeclaredLimit.Heap) : null,
            _ when comm == "memcached" => Memcached(arguments),
            _ when comm.StartsWith("redis-server", StringComparison.Ordinal) => Redis(arguments),
            _ => null,
        };
    }

    private static DeclaredLimit? Jvm(IReadOnlyList<string> arguments, Func<string, string?> environment)
    {
        // The last one wins in the JVM: the command line comes after JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS.
        DeclaredLimit? found = null;
        foreach (string? options in new[] { environment("JAVA_TOOL_OPTIONS"), environment("JDK_JAVA_OPTIONS") })
        {
            if (options is not null)
            {
                found = JvmIn(options.Split(' ', StringSplitOptions.RemoveEmptyEntries)) ?? found;
            }
        }

        return JvmIn(arguments) ?? found;
    }

    private static DeclaredLimit? JvmIn(IReadOnlyList<string> arguments)
    {
        DeclaredLimit? found = null;
        // The JVM takes the last one; an -Xmx among the program's own arguments (after the main class) is not told apart.
        foreach (string a in arguments)
        {
            string? value = a.StartsWith("-Xmx", StringComparison.Ordinal) ? a[4..]
                : a.StartsWith("-XX:MaxHeapSize=", StringComparison.Ordinal) ? a[16..]
                : null;
            if (value is not null && ParseJvmBytes(value) is { } b)
            {
                found = new DeclaredLimit(b, a, DeclaredLimit.Heap);
            }
        }

        return found;
    }

    private static DeclaredLimit? Node(IReadOnlyList<string> arguments, Func<string, string?> environment)
    {
        DeclaredLimit? found = null;
        if (environment("NODE_OPTIONS") is { } options)
        {
            found = NodeIn(options.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }

        return NodeIn(arguments) ?? found;
    }

    private static DeclaredLimit? NodeIn(IReadOnlyList<string> arguments)
    {
        DeclaredLimit? found = null;
        foreach (string a in arguments)
        {
            foreach (string prefix in (ReadOnlySpan<string>)["--max-old-space-size=", "--max_old_space_size="])
            {
                if (a.StartsWith(prefix, StringComparison.Ordinal)
                    && ulong.TryParse(a.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out ulong mib) && mib is > 0 and < 1UL << 30)
                {
                    found = new DeclaredLimit(mib * MiB, a, DeclaredLimit.Heap);
                }
            }
        }

        return found;
    }

    private static DeclaredLimit Memcached(IReadOnlyList<string> arguments)
    {
        for (int i = 1; i < arguments.Count; i++)
        {
            string a = arguments[i];
            string? value = a is "-m" or "--memory-limit" && i + 1 < arguments.Count ? arguments[i + 1]
                : a.StartsWith("--memory-limit=", StringComparison.Ordinal) ? a[15..]
                : a.StartsWith("-m", StringComparison.Ordinal) && a.Length > 2 ? a[2..]
                : null;
            if (value is not null && ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong mib) && mib is > 0 and < 1UL << 30)
            {
                return new DeclaredLimit(mib * MiB, $"memcached -m {mib}", DeclaredLimit.Cache);
            }
        }

        // memcached's default item memory.
        return new DeclaredLimit(64 * MiB, "memcached default -m 64", DeclaredLimit.Cache);
    }

    private static DeclaredLimit? Redis(IReadOnlyList<string> arguments)
    {
        for (int i = 1; i + 1 < arguments.Count; i++)
        {
            if (arguments[i] == "--maxmemory" && ParseRedisBytes(arguments[i + 1]) is { } b and > 0)
            {
                return new DeclaredLimit(b, "redis maxmemory " + arguments[i + 1], DeclaredLimit.Cache);
            }
        }

        return null;
    }

    /// <summary>The JVM's size syntax: digits with an optional k, m, g or t (binary multiples, either case).</summary>
    public static ulong? ParseJvmBytes(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }

        ulong scale = char.ToLowerInvariant(text[^1]) switch { 'k' => 1UL << 10, 'm' => 1UL << 20, 'g' => 1UL << 30, 't' => 1UL << 40, _ => 1 };
        ReadOnlySpan<char> digits = scale == 1 ? text : text.AsSpan(0, text.Length - 1);
        return ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) && n <= ulong.MaxValue / scale ? n * scale : null;
    }

    /// <summary>GOMEMLIMIT's syntax: a byte count with an optional B, KiB, MiB, GiB or TiB suffix; <c>off</c> is no limit.</summary>
    public static ulong? ParseGoBytes(string text)
    {
        (string suffix, ulong scale)[] units = [("TiB", 1UL << 40), ("GiB", 1UL << 30), ("MiB", 1UL << 20), ("KiB", 1UL << 10), ("B", 1)];
        foreach ((string suffix, ulong scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                return ulong.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)
                    && n <= ulong.MaxValue / scale ? n * scale : null;
            }
        }

        // A plain number is bytes; math.MaxInt64 (the default) is no limit.
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong bytes) && bytes < long.MaxValue ? bytes : null;
    }

    /// <summary>Redis's memory syntax: 1k = 1000, 1kb = 1024, likewise m/mb and g/gb, case-insensitive.</summary>
    public static ulong? ParseRedisBytes(string text)
    {
        string t = text.ToLowerInvariant();
        (string suffix, ulong scale)[] units = [("gb", 1UL << 30), ("mb", 1UL << 20), ("kb", 1UL << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)];
        foreach ((string suffix, ulong scale) in units)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                return ulong.TryParse(t.AsSpan(0, t.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)
                    && n <= ulong.MaxValue / scale ? n * scale : null;
            }
        }

        return ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong bytes) ? bytes : null;
    }
}
