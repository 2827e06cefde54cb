using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using MemWatch.Probes.DotNet;
using Xunit.Abstractions;

namespace MemWatch.IntegrationTests.DotNet;

/// <summary>
/// Issue 14, item 8: the bytes a .NET target sends are the target's to choose. Real answers of the diagnostic server
/// (to CollectTracing2, StopTracing and an unknown command) are captured from a live runtime, mutated (bit flips,
/// interesting values, truncation, chunks duplicated, removed or inserted) and served by a fake server to
/// <see cref="EventPipeStreamSession"/> (Microsoft.Diagnostics.NETCore.Client underneath), which may only start a session
/// or throw <see cref="DotNetDiagnosticsException"/>.
/// A real nettrace capture, mutated the same way, is parsed by <see cref="EventPipeCapture.Parse"/> with MemWatch's
/// subscribers (counters and the induced-GC watch), which may only return or report <see cref="InvalidDataException"/>
/// or <see cref="EndOfStreamException"/>.
/// </summary>
/// <remarks>
/// Mutated nettrace streams crashed the test host with a stack overflow in TraceEvent 3.1.21
/// (<c>FastSerializationObjectParser.ReadBlockHeader</c> under <c>EventPipeEventSource.Process</c>), which no catch can
/// stop; MemWatch now parses the stream with its own bounded <see cref="NetTraceReader"/>.
/// </remarks>
[Collection(DotNetTargetsCollection.Name)]
public sealed class DotNetParserFuzzTests
{
    private const int AnswerInputs = 100_000;
    private const int HeaderSize = 20;
    private const int StreamInputs = 100_000;

    /// <summary>
    /// What one input may allocate: one block buffer and the metadata kept, twice over, plus what decoding the events of
    /// a stream of that size allocates (a few small objects per event).
    /// </summary>
    private const long AllocationBoundBase = 2 * (NetTraceReader.MaxBlockBytes + NetTraceReader.MaxMetadataBytes);
    private const int AllocationPerInputByte = 64;
    private readonly ITestOutputHelper _output;

    public DotNetParserFuzzTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void MutatedIpcAnswers_OnlyDiagnosticsExceptions_RealStreamParses()
    {
        using DotNetTarget target = DotNetTarget.Start(largeGen0: true);
        Assert.True(new DiagnosticEndpointLocator().TryLocate(target.Pid, out DiagnosticEndpoint? endpoint));
        byte[] stream = CaptureStream(endpoint, target);
        byte[][] answers = CaptureAnswers(endpoint);
        _output.WriteLine($"captured: nettrace {stream.Length} bytes; answers {string.Join(", ", answers.Select(a => a.Length))} bytes");

        // The unmutated capture parses and yields the figures a live read would.
        var seed = new ManagedHeapReader.CounterBatches();
        Assert.Null(EventPipeCapture.Parse(new MemoryStream(stream), seed.Subscribe, () => { }));
        Assert.NotNull(seed.Figures(complete: false));

        // A fake server answers each request with a mutated real answer (half the time the one for that command); the
        // client is Microsoft.Diagnostics.NETCore.Client as MemWatch calls it, session started and disposed (stopped).
        var random = new Random(14);
        using var server = new FakeDiagnosticServer(request =>
        {
            int seed = random.Next(2) == 0 ? (request[17] == 0x03 ? 0 : request[17] == 0x01 ? 1 : 2) : random.Next(answers.Length);
            return Mutate(answers[seed], random);
        });
        var fake = new DiagnosticEndpoint(1, 1, server.Path, 1, true);
        EventPipeProviderSpec[] providers = [new("System.Runtime", 0, EventPipeProviderSpec.Informational)];
        var unexpected = new List<string>();
        var outcomes = new Dictionary<string, int>();
        var total = Stopwatch.StartNew();
        int started = 0;
        while (server.Answered < AnswerInputs && unexpected.Count < 5)
        {
            try
            {
                using EventPipeStreamSession session = EventPipeStreamSession.Start(fake, providers, 1, TimeSpan.FromSeconds(10));
                started++;
            }
            catch (DotNetDiagnosticsException e)
            {
                // Refused, Protocol or Unreachable (truncated): what the callers handle.
                outcomes[e.Reason.ToString()] = outcomes.GetValueOrDefault(e.Reason.ToString()) + 1;
            }
            catch (Exception e)
            {
                unexpected.Add($"answer {server.Answered}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }

        double answerSeconds = total.Elapsed.TotalSeconds;
        _output.WriteLine($"IPC answers: {server.Answered} in {answerSeconds:0.0} s ({server.Answered / answerSeconds:0} per second); sessions started {started}, "
            + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.True(unexpected.Count == 0, string.Join("\n\n", unexpected));
        Assert.True(started > 0 && outcomes.Count > 0, "the mutations never or always left a valid answer");
        Assert.Equal(0, EventPipeStreamSession.OpenSessions);
    }

    [Fact]
    public void MutatedNettraceStreams_OnlyFormatErrors_BoundedAllocation()
    {
        using DotNetTarget target = DotNetTarget.Start(largeGen0: true);
        Assert.True(new DiagnosticEndpointLocator().TryLocate(target.Pid, out DiagnosticEndpoint? endpoint));
        byte[] stream = CaptureStream(endpoint, target);
        _output.WriteLine($"captured: nettrace {stream.Length} bytes");

        // The unmutated capture parses to its end tag and yields the figures a live read would.
        var seed = new ManagedHeapReader.CounterBatches();
        var clock = Stopwatch.StartNew();
        Assert.Null(EventPipeCapture.Parse(new MemoryStream(stream), seed.Subscribe, () => { }));
        _output.WriteLine($"seed parsed in {clock.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.NotNull(seed.Figures(complete: false));

        var random = new Random(1414);
        var unexpected = new List<string>();
        var kinds = new Dictionary<string, int>();
        long maxAllocated = 0;
        double maxMilliseconds = 0;
        int parsedToEnd = 0;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < StreamInputs && unexpected.Count < 5; i++)
        {
            byte[] input = Mutate(stream, random, headBias: 4096);
            var counters = new ManagedHeapReader.CounterBatches();
            var gc = new GcTrigger.InducedGcWatch();
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long started = Stopwatch.GetTimestamp();
            Exception? e = EventPipeCapture.Parse(new MemoryStream(input, writable: false), (source, done) =>
            {
                counters.Subscribe(source, done);
                gc.Subscribe(source, done);
            }, () => { });
            _ = counters.Figures(complete: false);
            maxMilliseconds = Math.Max(maxMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            maxAllocated = Math.Max(maxAllocated, allocated);
            if (allocated > AllocationBoundBase + (AllocationPerInputByte * (long)input.Length))
            {
                unexpected.Add($"stream input {i}: allocated {allocated} bytes for {input.Length} bytes of input");
            }

            if (e is null)
            {
                parsedToEnd++;
            }
            else if (e is InvalidDataException or EndOfStreamException)
            {
                string kind = e.GetType().Name;
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            }
            else
            {
                unexpected.Add($"stream input {i}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }

        double seconds = total.Elapsed.TotalSeconds;
        _output.WriteLine($"nettrace: {StreamInputs} inputs in {seconds:0.0} s ({StreamInputs / seconds:0} per second), slowest {maxMilliseconds:0.0} ms, "
            + $"most allocated {maxAllocated / 1024.0:0} KiB; parsed to the end tag {parsedToEnd}, "
            + string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
        Assert.True(unexpected.Count == 0, string.Join("\n\n", unexpected));

        // Both outcomes occur, or the mutations missed the framing (or never left it intact).
        Assert.True(parsedToEnd > 0, "no mutated stream parsed to its end");
        Assert.True(kinds.GetValueOrDefault(nameof(InvalidDataException)) > 0, "no mutated stream was refused as malformed");
    }

    /// <summary>About 1.5 s of a real session: System.Runtime counters every 0.5 s and the GC events of a churning target.</summary>
    private static byte[] CaptureStream(DiagnosticEndpoint endpoint, DotNetTarget target)
    {
        EventPipeProviderSpec[] providers =
        [
            new("System.Runtime", 0, EventPipeProviderSpec.Informational, new Dictionary<string, string> { ["EventCounterIntervalSec"] = ManagedHeapReader.IntervalSeconds }),
            new("Microsoft-Windows-DotNETRuntime", 0x1, EventPipeProviderSpec.Informational),
        ];
        using EventPipeStreamSession session = EventPipeStreamSession.Start(endpoint, providers, 16, TimeSpan.FromSeconds(10));
        var copy = new MemoryStream();
        var reader = new Thread(() =>
        {
            try
            {
                session.Stream.CopyTo(copy);
            }
            catch (IOException)
            {
                // The session ended.
            }
        })
        {
            IsBackground = true,
        };
        reader.Start();
        target.Send("churn 32");
        Thread.Sleep(1500);
        session.Stop();
        Assert.True(reader.Join(TimeSpan.FromSeconds(30)), "the capture did not end");
        return copy.ToArray();
    }

    /// <summary>The server's real answers: CollectTracing2 (OK, session id), StopTracing (OK), an unknown command (error, HRESULT).</summary>
    private static byte[][] CaptureAnswers(DiagnosticEndpoint endpoint)
    {
        byte[] collectPayload = [.. U32(1), .. U32(1), 0, .. U32(1), .. new byte[8], .. U32(EventPipeProviderSpec.Informational), .. Utf16("System.Runtime"), .. U32(0)];
        using Socket collect = DiagnosticsIpc.Connect(endpoint, TimeSpan.FromSeconds(10));
        byte[] started = Exchange(collect, 0x02, 0x03, collectPayload);
        using Socket stop = DiagnosticsIpc.Connect(endpoint, TimeSpan.FromSeconds(10));
        byte[] stopped = Exchange(stop, 0x02, 0x01, started[HeaderSize..(HeaderSize + 8)]);
        using Socket unknown = DiagnosticsIpc.Connect(endpoint, TimeSpan.FromSeconds(10));
        byte[] refused = Exchange(unknown, 0x02, 0x7F, []);
        Assert.Equal(0xFF, refused[17]);
        return [started, stopped, refused];
    }

    /// <summary>Sends one message (dotnet/diagnostics IPC: magic, size, command set and id, reserved) and returns the raw answer.</summary>
    private static byte[] Exchange(Socket socket, byte commandSet, byte commandId, byte[] payload)
    {
        byte[] message = [.. "DOTNET_IPC_V1\0"u8, .. U16((ushort)(HeaderSize + payload.Length)), commandSet, commandId, 0, 0, .. payload];
        socket.Send(message);
        byte[] header = new byte[HeaderSize];
        Receive(socket, header);
        byte[] answer = new byte[BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14))];
        header.CopyTo(answer, 0);
        Receive(socket, answer.AsSpan(HeaderSize));
        return answer;
    }

    private static byte[] U16(ushort v)
    {
        byte[] b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return b;
    }

    private static byte[] U32(uint v)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] Utf16(string s) => [.. U32((uint)s.Length + 1), .. System.Text.Encoding.Unicode.GetBytes(s), 0, 0];

    private static void Receive(Socket socket, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = socket.Receive(buffer);
            Assert.True(n > 0, "the runtime closed the connection");
            buffer = buffer[n..];
        }
    }

    /// <summary>
    /// One to four mutations of a copy of <paramref name="seed"/>; with <paramref name="headBias"/>, half of them fall in
    /// that many first bytes (headers, the Trace object, the first metadata), where the framing is.
    /// </summary>
    private static byte[] Mutate(byte[] seed, Random random, int headBias = 0)
    {
        var data = new List<byte>(seed);
        int count = random.Next(1, 5);
        for (int m = 0; m < count && data.Count > 0; m++)
        {
            int at = headBias > 0 && random.Next(2) == 0 ? random.Next(Math.Min(headBias, data.Count)) : random.Next(data.Count);
            switch (random.Next(7))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[at] = random.Next(5) switch { 0 => 0, 1 => 1, 2 => 0x7F, 3 => 0x80, _ => 0xFF };
                    break;
                case 2:
                    uint value = random.Next(4) switch { 0 => 0u, 1 => uint.MaxValue, 2 => int.MaxValue, _ => (uint)random.Next(1, 1 << 16) };
                    for (int b = 0; b < 4 && at + b < data.Count; b++)
                    {
                        data[at + b] = (byte)(value >> (8 * b));
                    }

                    break;
                case 3:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 4:
                    int length = Math.Min(random.Next(1, 256), data.Count - at);
                    data.InsertRange(at, data.GetRange(at, length));
                    break;
                case 5:
                    data.RemoveRange(at, Math.Min(random.Next(1, 256), data.Count - at));
                    break;
                default:
                    byte[] noise = new byte[random.Next(1, 32)];
                    random.NextBytes(noise);
                    data.InsertRange(at, noise);
                    break;
            }
        }

        return [.. data];
    }
}
