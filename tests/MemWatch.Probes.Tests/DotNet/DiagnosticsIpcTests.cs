using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using MemWatch.Probes.DotNet;

namespace MemWatch.Probes.Tests.DotNet;

/// <summary>The diagnostic IPC wire format against the protocol document, and failures against a scripted fake server.</summary>
public sealed class DiagnosticsIpcTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("memwatch-ipc-").FullName;

    [Fact]
    public void CollectTracing2Payload_EncodesBufferFormatRundownAndProviders()
    {
        EventPipeProviderSpec[] providers =
        [
            new("System.Runtime", 0, 4, new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" }),
            new("P", 0x800001, 5),
        ];

        byte[] p = DiagnosticsIpc.CollectTracing2Payload(16, requestRundown: false, providers);

        var expected = new List<byte>();
        expected.AddRange(U32(16));
        expected.AddRange(U32(1));
        expected.Add(0);
        expected.AddRange(U32(2));
        expected.AddRange(U64(0));
        expected.AddRange(U32(4));
        expected.AddRange(Str("System.Runtime"));
        expected.AddRange(Str("EventCounterIntervalSec=1"));
        expected.AddRange(U64(0x800001));
        expected.AddRange(U32(5));
        expected.AddRange(Str("P"));
        expected.AddRange(U32(0));
        Assert.Equal(expected, p);
    }

    [Fact]
    public void WriteHeader_IsMagicSizeCommandReserved()
    {
        byte[] h = new byte[DiagnosticsIpc.HeaderSize];
        DiagnosticsIpc.WriteHeader(h, 28, 0x02, 0x03);
        Assert.Equal("DOTNET_IPC_V1\0"u8.ToArray(), h[..14]);
        Assert.Equal(new byte[] { 28, 0, 0x02, 0x03, 0, 0 }, h[14..]);
    }

    [Fact]
    public void Request_OkAnswer_ReturnsPayloadAndSeesTheRequest()
    {
        byte[]? request = null;
        using Socket client = Serve(r =>
        {
            request = r;
            return Answer(0xFF, 0x00, U64(0x1122334455667788));
        });

        byte[] payload = DiagnosticsIpc.Request(client, 0x02, 0x01, U64(7));

        Assert.Equal(0x1122334455667788UL, DiagnosticsIpc.ReadSessionId(payload));
        Assert.NotNull(request);
        Assert.Equal(28, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(14)));
        Assert.Equal(U64(7), request[20..]);
    }

    [Fact]
    public void Request_ErrorAnswer_IsRefusedWithTheHresult()
    {
        using Socket client = Serve(_ => Answer(0xFF, 0xFF, U32(0x80131384)));

        var e = Assert.Throws<DotNetDiagnosticsException>(() => DiagnosticsIpc.Request(client, 0x02, 0x03, []));

        Assert.Equal(DotNetDiagnosticsFailure.Refused, e.Reason);
        Assert.Contains("0x80131384", e.Message);
    }

    [Fact]
    public void Request_GarbledAnswer_IsAProtocolError()
    {
        using Socket client = Serve(_ => Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n"));

        var e = Assert.Throws<DotNetDiagnosticsException>(() => DiagnosticsIpc.Request(client, 0x02, 0x03, []));

        Assert.Equal(DotNetDiagnosticsFailure.Protocol, e.Reason);
    }

    [Fact]
    public void Request_ServerClosesWithoutAnswer_IsUnreachable()
    {
        using Socket client = Serve(_ => []);

        var e = Assert.Throws<DotNetDiagnosticsException>(() => DiagnosticsIpc.Request(client, 0x02, 0x03, []));

        Assert.Equal(DotNetDiagnosticsFailure.Unreachable, e.Reason);
    }

    [Fact]
    public void Connect_NoSocket_IsUnreachable()
    {
        var e = Assert.Throws<DotNetDiagnosticsException>(() => DiagnosticsIpc.Connect(Path.Combine(_dir, "none"), s_timeout));
        Assert.Equal(DotNetDiagnosticsFailure.Unreachable, e.Reason);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A one-shot server: reads one request (header and payload), writes the scripted answer, closes.</summary>
    private Socket Serve(Func<byte[], byte[]> answer)
    {
        string path = Path.Combine(_dir, "s" + Guid.NewGuid().ToString("N")[..8]);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var server = new Thread(() =>
        {
            using (listener)
            using (Socket s = listener.Accept())
            {
                byte[] header = new byte[20];
                ReadExactly(s, header);
                byte[] request = new byte[BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14))];
                header.CopyTo(request, 0);
                ReadExactly(s, request.AsSpan(20));
                s.Send(answer(request));
                s.Shutdown(SocketShutdown.Both);
            }
        })
        { IsBackground = true };
        server.Start();
        return DiagnosticsIpc.Connect(path, s_timeout);
    }

    private static void ReadExactly(Socket s, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = s.Receive(buffer);
            if (n == 0)
            {
                throw new IOException("client closed");
            }

            buffer = buffer[n..];
        }
    }

    private static byte[] Answer(byte set, byte id, byte[] payload)
    {
        byte[] m = new byte[20 + payload.Length];
        DiagnosticsIpc.WriteHeader(m, (ushort)m.Length, set, id);
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
