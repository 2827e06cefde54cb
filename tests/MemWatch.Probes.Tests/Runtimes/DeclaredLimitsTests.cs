using MemWatch.Probes.Runtimes;

namespace MemWatch.Probes.Tests.Runtimes;

/// <summary>The limits processes declare, in the syntax each program accepts.</summary>
public sealed class DeclaredLimitsTests
{
    private const ulong MiB = 1UL << 20;

    private static DeclaredLimit? Find(RuntimeKind runtime, string comm, string[] args, params (string Name, string Value)[] environment) =>
        DeclaredLimits.Find(runtime, comm, args, n => environment.FirstOrDefault(e => e.Name == n).Value);

    [Fact]
    public void Jvm_LastXmxWins_CommandLineOverJavaToolOptions()
    {
        DeclaredLimit? d = Find(RuntimeKind.Jvm, "java", ["java", "-Xmx1g", "-Xmx512m", "-jar", "app.jar"], ("JAVA_TOOL_OPTIONS", "-Xmx2g"));
        Assert.Equal(512 * MiB, d!.Bytes);
        Assert.Equal("-Xmx512m", d.Source);
        Assert.Equal(DeclaredLimit.Heap, d.Bounds);
        Assert.Equal(2048 * MiB, Find(RuntimeKind.Jvm, "java", ["java", "Main"], ("JAVA_TOOL_OPTIONS", "-Xmx2g"))!.Bytes);
        Assert.Equal(3UL << 30, Find(RuntimeKind.Jvm, "java", ["java", "-XX:MaxHeapSize=3G", "Main"])!.Bytes);
    }

    [Fact]
    public void Node_MaxOldSpaceSize_FromArgumentsOrNodeOptions()
    {
        Assert.Equal(1024 * MiB, Find(RuntimeKind.Node, "node", ["node", "--max-old-space-size=1024", "app.js"])!.Bytes);
        Assert.Equal(300 * MiB, Find(RuntimeKind.Node, "node", ["node", "app.js"], ("NODE_OPTIONS", "--max_old_space_size=300"))!.Bytes);
        Assert.Null(Find(RuntimeKind.Node, "node", ["node", "app.js"]));
    }

    [Fact]
    public void Go_Gomemlimit_WithUnitsAndOff()
    {
        Assert.Equal(2UL << 30, Find(RuntimeKind.Go, "app", ["app"], ("GOMEMLIMIT", "2GiB"))!.Bytes);
        Assert.Equal(1000UL, Find(RuntimeKind.Go, "app", ["app"], ("GOMEMLIMIT", "1000"))!.Bytes);
        Assert.Null(Find(RuntimeKind.Go, "app", ["app"], ("GOMEMLIMIT", "off")));
        Assert.Null(Find(RuntimeKind.Go, "app", ["app"], ("GOMEMLIMIT", "9223372036854775807")));
    }

    [Fact]
    public void Memcached_DashM_OrItsDefault()
    {
        Assert.Equal(512 * MiB, Find(RuntimeKind.None, "memcached", ["memcached", "-m", "512", "-p", "11211"])!.Bytes);
        Assert.Equal(128 * MiB, Find(RuntimeKind.None, "memcached", ["memcached", "--memory-limit=128"])!.Bytes);
        DeclaredLimit d = Find(RuntimeKind.None, "memcached", ["memcached"])!;
        Assert.Equal(64 * MiB, d.Bytes);
        Assert.Equal(DeclaredLimit.Cache, d.Bounds);
    }

    [Fact]
    public void Redis_Maxmemory_InRedisUnits()
    {
        Assert.Equal(512 * MiB, Find(RuntimeKind.None, "redis-server", ["redis-server", "--maxmemory", "512mb"])!.Bytes);
        Assert.Equal(100_000_000UL, Find(RuntimeKind.None, "redis-server", ["redis-server", "--maxmemory", "100m"])!.Bytes);
        Assert.Null(Find(RuntimeKind.None, "redis-server", ["redis-server", "*:6379"]));
    }

    [Fact]
    public void Sizes_Malformed_AreNoLimit()
    {
        Assert.Null(DeclaredLimits.ParseJvmBytes("12x"));
        Assert.Null(DeclaredLimits.ParseJvmBytes(""));
        Assert.Null(DeclaredLimits.ParseJvmBytes("99999999999999999999g"));
        Assert.Null(DeclaredLimits.ParseGoBytes("-5MiB"));
        Assert.Null(DeclaredLimits.ParseRedisBytes("lots"));
    }
}
