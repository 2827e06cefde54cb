using System.Buffers.Binary;
using System.Text;
using MemWatch.Probes.DotNet;

namespace MemWatch.Probes.Tests.DotNet;

/// <summary>
/// Sessions through Microsoft.Diagnostics.NETCore.Client against a scripted fake server: what goes on the wire
/// (dotnet/diagnostics' IPC protocol: CollectTracing2, then StopTracing on a second connection), and every failure
/// of the server's answer as a <see cref="DotNetDiagnosticsException"/>.
/// </summary>
public sealed class EventPipeStreamSessionTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private static readonly EventPipeProviderSpec[] s_providers =
    [
        new("System.Runtime", 0, 4, new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" }),
        new("P", 0x800001, 5),
    ];

    [Fact]
    public void Start_OkAnswer_SendsCollectTracing2ThenStopTracingWithTheSessionId()
    {
        using var server = new FakeDiagnosticServer(request => request[17] == 0x03
            ? Answer(0xFF, 0x00, U64(0x1122334455667788))
            : Answer(0xFF, 0x00, U32(0)));

        using (EventPipeStreamSession session = EventPipeStreamSession.Start(Endpoint(server), s_providers, 16, s_timeout))
        {
            // The fake server closes the connection after its answer: the stream is empty.
            Assert.Equal(-1, session.Stream.ReadByte());
        }

        IReadOnlyList<byte[]> requests = server.Requests;
        Assert.Equal(2, requests.Count);
        byte[] collect = requests[0];
        Assert.Equal("DOTNET_IPC_V1\0"u8.ToArray(), collect[..14]);
        Assert.Equal(new byte[] { 0x02, 0x03 }, collect[16..18]);
        var payload = new List<byte>();
        payload.AddRange(U32(16));
        payload.AddRange(U32(1));
        payload.Add(0);
        payload.AddRange(U32(2));
        payload.AddRange(U64(0));
        payload.AddRange(U32(4));
        payload.AddRange(Str("System.Runtime"));
        payload.AddRange(Str("EventCounterIntervalSec=1"));
        payload.AddRange(U64(0x800001));
        payload.AddRange(U32(5));
        payload.AddRange(Str("P"));
        Assert.Equal(payload, collect[20..(20 + payload.Count)]);

        byte[] stop = requests[1];
        Assert.Equal(new byte[] { 0x02, 0x01 }, stop[16..18]);
        Assert.Equal(U64(0x1122334455667788), stop[20..28]);
    }

    [Fact]
    public void Start_ErrorAnswer_IsRefused()
    {
        using var server = new FakeDiagnosticServer(_ => Answer(0xFF, 0xFF, U32(0x80131384)));

        var e = Assert.Throws<DotNetDiagnosticsException>(() => EventPipeStreamSession.Start(Endpoint(server), s_providers, 16, s_timeout));

        Assert.Equal(DotNetDiagnosticsFailure.Refused, e.Reason);
        Assert.Equal(0, EventPipeStreamSession.OpenSessions);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("short")]
    [InlineData("empty")]
    public void Start_GarbledOrMissingAnswer_IsADiagnosticsFailure(string kind)
    {
        using var server = new FakeDiagnosticServer(_ => kind switch
        {
            "http" => Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n"),
            "short" => Answer(0xFF, 0x00, [])[..12],
            _ => [],
        });

        var e = Assert.Throws<DotNetDiagnosticsException>(() => EventPipeStreamSession.Start(Endpoint(server), s_providers, 16, s_timeout));

        Assert.Contains(e.Reason, new[] { DotNetDiagnosticsFailure.Protocol, DotNetDiagnosticsFailure.Refused, DotNetDiagnosticsFailure.Unreachable });
    }

    [Fact]
    public void Start_ServerNeverAnswers_IsATimeout()
    {
        // A runtime (or whatever holds the socket) that reads the request and keeps silent must not hold the caller.
        using var release = new ManualResetEventSlim();
        using var server = new FakeDiagnosticServer(_ =>
        {
            release.Wait(TimeSpan.FromSeconds(60));
            return [];
        });

        try
        {
            var e = Assert.Throws<DotNetDiagnosticsException>(() => EventPipeStreamSession.Start(Endpoint(server), s_providers, 16, TimeSpan.FromSeconds(1)));

            Assert.Equal(DotNetDiagnosticsFailure.Timeout, e.Reason);
            Assert.Equal(0, EventPipeStreamSession.OpenSessions);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public void Start_NoSocket_IsUnreachable()
    {
        var endpoint = new DiagnosticEndpoint(1, 1, Path.Combine(Path.GetTempPath(), $"memwatch-none-{Guid.NewGuid():N}"), 1, true);

        var e = Assert.Throws<DotNetDiagnosticsException>(() => EventPipeStreamSession.Start(endpoint, s_providers, 16, s_timeout));

        Assert.Equal(DotNetDiagnosticsFailure.Unreachable, e.Reason);
    }

    private static DiagnosticEndpoint Endpoint(FakeDiagnosticServer server) => new(1, 1, server.Path, 1, true);

    private static byte[] Answer(byte set, byte id, byte[] payload)
    {
        byte[] m = new byte[20 + payload.Length];
        "DOTNET_IPC_V1\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(14), (ushort)m.Length);
        m[16] = set;
        m[17] = id;
        payload.CopyTo(m, 20);
        return m;
    }

    private static byte[] U32(uint v)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] U64(ulong v)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    private static byte[] Str(string s) => [.. U32((uint)s.Length + 1), .. Encoding.Unicode.GetBytes(s), 0, 0];
}
