using MemWatch.Probes.Allocators;
using MemWatch.Probes.Injection;
using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Symbols;

namespace MemWatch.IntegrationTests.Injection;

/// <summary>
/// A statistics reading whose malloc_info call fails (a session that refuses exactly that call, as a timeout rolled
/// back would) must close the memory stream it opened: the target's stdio list (<c>_IO_list_all</c>, counted by
/// tests/workloads/inject_target.c) holds as many FILEs afterwards as before.
/// </summary>
public sealed class MallocInfoRollbackTests
{
    [Fact]
    public void ReadStatistics_MallocInfoFails_NoFileLeftLinked()
    {
        using var target = InjectTarget.Start();
        long before = target.Stats()["files"];
        Assert.True(TargetSymbols.TryLoad(ProcFileSystem.Default, target.Pid, new FileBuffer(), out TargetSymbols? symbols));
        Assert.True(symbols.TryResolveExport("malloc_info", out TargetSymbolAddress mallocInfo));
        IAllocatorIntrospector glibc = AllocatorIntrospectors.ForTarget(symbols);
        using IRemoteCallSession session = RemoteProcess.Open(target.Pid, new RemoteCallOptions { ThreadId = target.ThreadId("pauser") });
        var failing = new FailingSession(session, mallocInfo.Address);

        var e = Assert.Throws<RemoteCallException>(() => glibc.ReadStatistics(failing, TimeSpan.FromSeconds(10)));
        Assert.Equal(RemoteCallFailure.Timeout, e.Reason);
        Assert.True(failing.CallsAfterFailure >= 2, "fclose and free were not called after the failure");
        Assert.Equal(before, target.Stats()["files"]);
    }

    /// <summary>Forwards calls, except that a call to <paramref name="failing"/> fails before it is made.</summary>
    private sealed class FailingSession(IRemoteCallSession inner, ulong failing) : IRemoteCallSession
    {
        private bool _failed;

        public int CallsAfterFailure { get; private set; }

        public int Pid => inner.Pid;

        public int Tid => inner.Tid;

        public RemoteCallResult Call(ulong function, ReadOnlySpan<RemoteArg> args, Span<byte> scratch, TimeSpan timeout)
        {
            if (function == failing)
            {
                _failed = true;
                throw new RemoteCallException(RemoteCallFailure.Timeout, "malloc_info did not return (simulated); rolled back");
            }

            CallsAfterFailure += _failed ? 1 : 0;
            return inner.Call(function, args, scratch, timeout);
        }

        public void ReadMemory(ulong address, Span<byte> destination) => inner.ReadMemory(address, destination);

        public void Dispose()
        {
        }
    }
}
