using MemWatch.Probes.Injection;

namespace MemWatch.Probes.Tests.Allocators;

/// <summary>Records calls for marshalling tests; a handler per function address plays the callee.</summary>
internal sealed class FakeRemoteCallSession : IRemoteCallSession
{
    public const ulong ScratchBase = 0x7ffd_0000_1000;

    private readonly Dictionary<ulong, Func<ulong[], byte[], ulong>> _handlers = [];
    private readonly Dictionary<ulong, byte[]> _memory = [];

    public int Pid => 4242;

    public int Tid => 4242;

    public List<(ulong Function, ulong[] Args, int ScratchLength, byte[] ScratchIn)> Calls { get; } = [];

    public void On(ulong function, Func<ulong[], byte[], ulong> handler) => _handlers[function] = handler;

    public void Map(ulong address, byte[] bytes) => _memory[address] = bytes;

    public RemoteCallResult Call(ulong function, ReadOnlySpan<RemoteArg> args, Span<byte> scratch, TimeSpan timeout)
    {
        ulong[] resolved = new ulong[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            resolved[i] = args[i].IsScratchOffset ? ScratchBase + args[i].Value : args[i].Value;
        }

        byte[] block = scratch.ToArray();
        Calls.Add((function, resolved, scratch.Length, (byte[])block.Clone()));
        ulong rax = _handlers.TryGetValue(function, out var handler) ? handler(resolved, block) : 0;
        block.CopyTo(scratch);
        return new RemoteCallResult(rax, 100 + Calls.Count, 50);
    }

    public void ReadMemory(ulong address, Span<byte> destination)
    {
        byte[] bytes = _memory[address];
        bytes.AsSpan(0, destination.Length).CopyTo(destination);
    }

    public void Dispose()
    {
    }
}
