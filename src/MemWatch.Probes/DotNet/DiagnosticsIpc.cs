using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using MemWatch.Probes.Files;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Probes.DotNet;

/// <summary>
/// The few commands of the .NET diagnostic IPC protocol MemWatch needs, written directly on the socket
/// (dotnet/diagnostics documentation/design-docs/ipc-protocol.md). DiagnosticsClient 0.2.745401 only takes a PID and
/// resolves the socket itself; MemWatch connects to the path it located, which also works across mount namespaces.
/// </summary>
/// <remarks>
/// A message is a 20-byte header (magic <c>DOTNET_IPC_V1\0</c>, uint16 total size, command set, command id, uint16 0)
/// and a payload, little-endian. Strings are uint32 length in UTF-16 units including the NUL, then the units.
/// </remarks>
internal static class DiagnosticsIpc
{
    public const int HeaderSize = 20;
    public const byte EventPipeCommandSet = 0x02;
    public const byte StopTracing = 0x01;
    public const byte CollectTracing2 = 0x03;
    public const byte ServerCommandSet = 0xFF;
    public const byte ServerOk = 0x00;
    public const byte ServerError = 0xFF;

    /// <summary>nettrace, the stream format <see cref="NetTraceReader"/> reads.</summary>
    private const uint NetTraceFormat = 1;

    private static ReadOnlySpan<byte> Magic => "DOTNET_IPC_V1\0"u8;

    /// <summary>
    /// Connects to the endpoint's socket. A located endpoint is opened beneath the process's root without following
    /// links and must be a socket owned by the process's user (<see cref="ProcessRoot.OpenSocket"/>); the connection
    /// goes to that very inode through <c>/proc/self/fd</c>, so nothing can be swapped in between. Failures become
    /// <see cref="DotNetDiagnosticsException"/>.
    /// </summary>
    public static Socket Connect(DiagnosticEndpoint endpoint, TimeSpan timeout)
    {
        if (endpoint.RootPath is not { } rootPath || endpoint.PathInRoot is not { } inRoot || endpoint.OwnerUids is not { } uids)
        {
            return Connect(endpoint.SocketPath, timeout);
        }

        try
        {
            using ProcessRoot root = ProcessRoot.Open(rootPath);
            using SafeFileHandle socket = root.OpenSocket(inRoot, uids.Real, uids.Effective);
            return Connect(CheckedFile.DescriptorPath(socket), timeout, shownAs: endpoint.SocketPath);
        }
        catch (UnsafeFileException e)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Unsafe, e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.PermissionDenied, e.Message, e);
        }
        catch (IOException e)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Unreachable, e.Message, e);
        }
    }

    /// <summary>Connects to the socket at a plain path; failures become <see cref="DotNetDiagnosticsException"/>.</summary>
    public static Socket Connect(string path, TimeSpan timeout, string? shownAs = null)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.SendTimeout = socket.ReceiveTimeout = ToMilliseconds(timeout);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new DotNetDiagnosticsException(
                e.SocketErrorCode == SocketError.AccessDenied ? DotNetDiagnosticsFailure.PermissionDenied : DotNetDiagnosticsFailure.Unreachable,
                $"cannot connect to {shownAs ?? path}: {e.Message}",
                e);
        }
    }

    /// <summary>Sends one message and reads the answer's header and payload.</summary>
    /// <returns>The payload of a Server OK answer.</returns>
    public static byte[] Request(Socket socket, byte commandSet, byte commandId, ReadOnlySpan<byte> payload)
    {
        byte[] message = new byte[HeaderSize + payload.Length];
        if (message.Length > ushort.MaxValue)
        {
            throw new ArgumentException("diagnostic IPC message too large", nameof(payload));
        }

        WriteHeader(message, (ushort)message.Length, commandSet, commandId);
        payload.CopyTo(message.AsSpan(HeaderSize));
        try
        {
            socket.Send(message);
            return ReadAnswer(socket.Receive, commandSet, commandId);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Timeout, "the runtime did not answer in time", e);
        }
        catch (SocketException e)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Unreachable, $"diagnostic connection failed: {e.Message}", e);
        }
    }

    /// <summary>Reads into the buffer; returns 0 at the end of the stream.</summary>
    internal delegate int Receiver(Span<byte> buffer);

    /// <summary>
    /// Reads and checks one answer from the runtime (bytes the target controls): header, then the payload of the size
    /// it states (at most 64 KiB: the size is 16 bits).
    /// </summary>
    /// <returns>The payload of a Server OK answer.</returns>
    /// <exception cref="DotNetDiagnosticsException">Anything else: Protocol, Refused, or Unreachable when the stream ends.</exception>
    internal static byte[] ReadAnswer(Receiver receive, byte commandSet, byte commandId)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        ReadExactly(receive, header);
        if (!header[..Magic.Length].SequenceEqual(Magic))
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Protocol, "the diagnostic server's answer has no DOTNET_IPC_V1 header");
        }

        int size = BinaryPrimitives.ReadUInt16LittleEndian(header[14..]);
        if (size < HeaderSize)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Protocol, $"diagnostic IPC answer of impossible size {size}");
        }

        byte[] answer = new byte[size - HeaderSize];
        ReadExactly(receive, answer);
        if (header[16] == ServerCommandSet && header[17] == ServerOk)
        {
            return answer;
        }

        if (header[16] == ServerCommandSet && header[17] == ServerError && answer.Length >= 4)
        {
            uint hresult = BinaryPrimitives.ReadUInt32LittleEndian(answer);
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Refused, $"the runtime refused command 0x{commandSet:x2}{commandId:x2}: HRESULT 0x{hresult:x8}");
        }

        throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Protocol, $"unexpected diagnostic IPC answer 0x{header[16]:x2}{header[17]:x2}");
    }

    /// <summary>The CollectTracing2 payload: buffer size, nettrace format, rundown flag, providers.</summary>
    public static byte[] CollectTracing2Payload(uint circularBufferMB, bool requestRundown, IReadOnlyList<EventPipeProviderSpec> providers)
    {
        var buffer = new List<byte>(256);
        AddUInt32(buffer, circularBufferMB);
        AddUInt32(buffer, NetTraceFormat);
        buffer.Add(requestRundown ? (byte)1 : (byte)0);
        AddUInt32(buffer, (uint)providers.Count);
        foreach (EventPipeProviderSpec p in providers)
        {
            AddUInt64(buffer, p.Keywords);
            AddUInt32(buffer, p.Level);
            AddString(buffer, p.Name);
            AddString(buffer, p.FilterData);
        }

        return [.. buffer];
    }

    public static byte[] SessionIdPayload(ulong sessionId)
    {
        byte[] payload = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, sessionId);
        return payload;
    }

    public static ulong ReadSessionId(byte[] payload) => payload.Length >= 8
        ? BinaryPrimitives.ReadUInt64LittleEndian(payload)
        : throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Protocol, "the runtime's answer carries no session id");

    public static int ToMilliseconds(TimeSpan timeout) => (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);

    internal static void WriteHeader(Span<byte> destination, ushort size, byte commandSet, byte commandId)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[14..], size);
        destination[16] = commandSet;
        destination[17] = commandId;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[18..], 0);
    }

    private static void ReadExactly(Receiver receive, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = receive(destination);
            if (n == 0)
            {
                throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Unreachable, "the runtime closed the diagnostic connection");
            }

            destination = destination[n..];
        }
    }

    private static void AddUInt32(List<byte> buffer, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        buffer.AddRange(b);
    }

    private static void AddUInt64(List<byte> buffer, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        buffer.AddRange(b);
    }

    private static void AddString(List<byte> buffer, string? value)
    {
        if (value is null)
        {
            AddUInt32(buffer, 0);
            return;
        }

        AddUInt32(buffer, (uint)value.Length + 1);
        buffer.AddRange(Encoding.Unicode.GetBytes(value));
        buffer.Add(0);
        buffer.Add(0);
    }
}
