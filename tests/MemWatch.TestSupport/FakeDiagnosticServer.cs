using System.Buffers.Binary;
using System.Net.Sockets;

namespace MemWatch.TestSupport;

/// <summary>
/// A scripted .NET diagnostic server on a unix socket: for each connection it reads one request (20-byte header and
/// the payload it announces), records it, writes what <c>answer</c> returns for it, and closes the connection.
/// </summary>
public sealed class FakeDiagnosticServer : IDisposable
{
    private readonly Socket _listener;
    private readonly Thread _thread;
    private readonly string _directory;
    private readonly Func<byte[], byte[]> _answer;
    private readonly List<byte[]> _requests = [];
    private int _answered;

    public FakeDiagnosticServer(Func<byte[], byte[]> answer)
    {
        _answer = answer;
        _directory = Directory.CreateTempSubdirectory("memwatch-fake-ipc-").FullName;
        Path = System.IO.Path.Combine(_directory, "dotnet-diagnostic-fake-socket");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(16);
        _thread = new Thread(Serve) { IsBackground = true, Name = "fake-ipc" };
        _thread.Start();
    }

    public string Path { get; }

    /// <summary>Connections answered so far.</summary>
    public int Answered => Volatile.Read(ref _answered);

    public IReadOnlyList<byte[]> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _thread.Join(TimeSpan.FromSeconds(10));
        Directory.Delete(_directory, recursive: true);
    }

    private void Serve()
    {
        while (true)
        {
            Socket s;
            try
            {
                s = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            using (s)
            {
                try
                {
                    s.ReceiveTimeout = 10_000;
                    byte[] header = new byte[20];
                    ReadExactly(s, header);
                    byte[] request = new byte[Math.Max(20, (int)BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14)))];
                    header.CopyTo(request, 0);
                    ReadExactly(s, request.AsSpan(20));
                    lock (_requests)
                    {
                        _requests.Add(request);
                    }

                    s.Send(_answer(request));
                    Interlocked.Increment(ref _answered);
                    s.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or IOException)
                {
                    // The client gave up on this connection.
                }
            }
        }
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
}
