using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.Runtimes;

/// <summary>
/// The runtime corpus's servers, from Debian's packages as users run them: memcached and Redis filled by a client
/// (tests/workloads/runtimes/cache_client.py) and idle, and a PostgreSQL 15 backend reading a table through its
/// shared buffers (pg_driver.sh) and idle.
/// </summary>
public sealed class ServerCorpusTests(ITestOutputHelper output)
{
    private static string Client => Path.Combine(RuntimeCorpus.Workloads, "cache_client.py");

    [Fact]
    public void MemcachedFillingItsCache_IsBoundedCacheGrowth()
    {
        int port = FreePort();
        using RuntimeProgram server = RuntimeProgram.Start("memcached", ["-m", "512", "-p", P(port), "-U", "0", "-l", "127.0.0.1", "-u", "nobody", "-v"]);
        WaitForPort(port);
        using RuntimeProgram client = RuntimeProgram.Start("/usr/bin/python3", [Client, "memcached", P(port)]);
        RuntimeCorpus.Run(output, "memcached -m 512 filled at 4 MiB/s", client, server.Pid, "bytes", Truth.Grows, ["bounded-cache-growth"]);
    }

    [Fact]
    public void MemcachedIdle_IsStable()
    {
        int port = FreePort();
        using RuntimeProgram server = RuntimeProgram.Start("memcached", ["-m", "512", "-p", P(port), "-U", "0", "-l", "127.0.0.1", "-u", "nobody", "-v"]);
        WaitForPort(port);
        using RuntimeProgram client = RuntimeProgram.Start("/usr/bin/python3", [Client, "memcached", P(port), "idle"]);
        RuntimeCorpus.Run(output, "memcached idle", client, server.Pid, "bytes", Truth.Holds, ["stable"]);
    }

    [Fact]
    public void RedisFillingTowardMaxmemory_IsBoundedCacheGrowth()
    {
        int port = FreePort();
        using RuntimeProgram server = Redis(port);
        using RuntimeProgram client = RuntimeProgram.Start("/usr/bin/python3", [Client, "redis", P(port)]);
        RuntimeCorpus.Run(output, "redis maxmemory 512mb filled at 4 MiB/s", client, server.Pid, "used_memory", Truth.Grows, ["bounded-cache-growth"]);
    }

    [Fact]
    public void RedisIdle_IsStable()
    {
        int port = FreePort();
        using RuntimeProgram server = Redis(port);
        using RuntimeProgram client = RuntimeProgram.Start("/usr/bin/python3", [Client, "redis", P(port), "idle"]);
        RuntimeCorpus.Run(output, "redis idle", client, server.Pid, "used_memory", Truth.Holds, ["stable"]);
    }

    [Fact]
    public void PostgresBackendReadingThroughSharedBuffers_IsSharedMemoryGrowth()
    {
        using var cluster = new PostgresCluster();
        using RuntimeProgram driver = cluster.Driver("scan");
        driver.WaitReady(TimeSpan.FromSeconds(60));
        RuntimeCorpus.Run(output, "postgresql backend reading a table through shared_buffers", driver, BackendPid(driver), "buffers_used", Truth.Grows, ["shared-memory-growth"]);
    }

    [Fact]
    public void PostgresBackendIdle_IsStable()
    {
        using var cluster = new PostgresCluster();
        using RuntimeProgram driver = cluster.Driver("idle");
        driver.WaitReady(TimeSpan.FromSeconds(60));
        RuntimeCorpus.Run(output, "postgresql backend idle", driver, BackendPid(driver), "buffers_used", Truth.Holds, ["stable"]);
    }

    private static int BackendPid(RuntimeProgram driver) => int.Parse(driver.ReadyLine.Split(' ')[1], CultureInfo.InvariantCulture);

    private static RuntimeProgram Redis(int port)
    {
        // Redis rewrites its command line (its process title) unless told not to; MemWatch reads maxmemory from it.
        RuntimeProgram server = RuntimeProgram.Start("redis-server", ["--port", P(port), "--bind", "127.0.0.1", "--maxmemory", "512mb",
            "--maxmemory-policy", "allkeys-lru", "--save", "", "--appendonly", "no", "--set-proc-title", "no", "--daemonize", "no"]);
        WaitForPort(port);
        return server;
    }

    private static string P(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static void WaitForPort(int port)
    {
        long end = Environment.TickCount64 + 30_000;
        while (Environment.TickCount64 < end)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        throw new TimeoutException($"nothing listens on port {port}");
    }

    /// <summary>A PostgreSQL 15 cluster of its own (initdb as the postgres user, a random port, its socket in its own
    /// directory, shared_buffers 512 MB without huge pages) holding table t (800,000 rows of 200 bytes, indexed).</summary>
    private sealed class PostgresCluster : IDisposable
    {
        private const string Bin = "/usr/lib/postgresql/15/bin";
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "memwatch-pg-" + Guid.NewGuid().ToString("N")[..12]);
        private readonly int _port = FreePort();

        public PostgresCluster()
        {
            try
            {
                Start();
            }
            catch
            {
                // A cluster that started but could not be set up is stopped and removed here: Dispose is not called.
                Dispose();
                throw;
            }
        }

        private void Start()
        {
            Directory.CreateDirectory(_dir);
            Run("chown", "postgres:postgres", _dir);
            AsPostgres($"{Bin}/initdb", "-D", Data, "-A", "trust", "--no-sync", "-U", "postgres");
            AsPostgres($"{Bin}/pg_ctl", "-D", Data, "-l", Path.Combine(_dir, "log"), "-w", "-o",
                $"-k {_dir} -p {_port} -c listen_addresses='' -c shared_buffers=512MB -c huge_pages=off -c fsync=off", "start");
            Psql("create extension pg_buffercache; create table t as select g as id, repeat('x', 200) as pad from generate_series(1, 800000) g; create index on t (id);");
            Psql("vacuum analyze t;");
        }

        private string Data => Path.Combine(_dir, "data");

        // The driver is copied into the cluster's directory: the postgres user may not traverse the test's output directory.
        public RuntimeProgram Driver(string mode)
        {
            string script = Path.Combine(_dir, "pg_driver.sh");
            File.Copy(Path.Combine(RuntimeCorpus.Workloads, "pg_driver.sh"), script, overwrite: true);
            return RuntimeProgram.Start("runuser", ["-u", "postgres", "--", "bash", script, _dir, P(_port), mode]);
        }

        private void Psql(string sql) => AsPostgres("psql", "-h", _dir, "-p", P(_port), "-d", "postgres", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql);

        private static void AsPostgres(params string[] command) => Run("runuser", ["-u", "postgres", "--", .. command]);

        private static void Run(string command, params string[] args)
        {
            var psi = new ProcessStartInfo(command, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            using Process p = Process.Start(psi)!;
            Task<string> err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(180_000), $"{command} {string.Join(' ', args)} did not finish");
            Assert.True(p.ExitCode == 0, $"{command} {string.Join(' ', args)} failed: {err.Result}");
        }

        public void Dispose()
        {
            try
            {
                if (File.Exists(Path.Combine(Data, "postmaster.pid")))
                {
                    AsPostgres($"{Bin}/pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
                }
            }
            finally
            {
                if (Directory.Exists(_dir))
                {
                    Directory.Delete(_dir, recursive: true);
                }
            }
        }
    }
}
