namespace MemWatch.Probes.DotNet;

/// <summary>
/// Runs one bounded EventPipe session: starts it, parses its stream with <see cref="NetTraceReader"/> on a dedicated thread until the
/// subscriber signals that it has what it needs or the time is up, then stops the session, waits for the parser
/// thread and disposes everything. Nothing outlives <see cref="Run"/>.
/// </summary>
internal static class EventPipeCapture
{
    /// <summary>Thread name (15 characters fit in /proc/self/task/TID/comm), used by tests to find leftovers.</summary>
    internal const string ThreadName = "mw-eventpipe";

    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);

    /// <param name="endpoint">The runtime.</param>
    /// <param name="providers">What to enable.</param>
    /// <param name="maxDuration">How long to wait for the subscriber to complete.</param>
    /// <param name="subscribe">Called on the parser thread before parsing: attach handlers to the source and call the
    /// given action once done (from a handler).</param>
    /// <returns>True when the subscriber signalled completion before <paramref name="maxDuration"/>.</returns>
    /// <exception cref="DotNetDiagnosticsException">Unreachable when the runtime went away before completion; Protocol when
    /// the stream could not be parsed; any failure to start the session.</exception>
    public static bool Run(
        DiagnosticEndpoint endpoint,
        IReadOnlyList<EventPipeProviderSpec> providers,
        TimeSpan maxDuration,
        Action<NetTraceReader, Action> subscribe)
    {
        // Not disposed: a parser thread that outlived both joins may still set it (Wait uses no kernel handle).
        var done = new ManualResetEventSlim();
        Exception? parseError = null;
        using EventPipeStreamSession session = EventPipeStreamSession.Start(endpoint, providers, circularBufferMB: 16, maxDuration);
        bool stopping = false;
        bool completed = false;
        void Complete()
        {
            Volatile.Write(ref completed, true);
            done.Set();
        }

        var thread = new Thread(() =>
        {
            try
            {
                Exception? e = Parse(session.Stream, subscribe, Complete);
                if (e is not null && !Volatile.Read(ref stopping))
                {
                    parseError = e;
                }
            }
            finally
            {
                done.Set();
            }
        })
        {
            IsBackground = true,
            Name = ThreadName,
        };
        thread.Start();

        done.Wait(maxDuration);
        Volatile.Write(ref stopping, true);
        DotNetDiagnosticsException? stopError = null;
        try
        {
            session.Stop();
        }
        catch (DotNetDiagnosticsException e)
        {
            // The target may have exited; aborting the connection below ends the parser either way.
            stopError = e;
        }

        if (!thread.Join(s_drainTimeout))
        {
            session.Abort();
            thread.Join(s_drainTimeout);
        }

        // Stop could not even connect: the runtime went away (exited, or closed its socket) before the subscriber was done.
        if (!Volatile.Read(ref completed) && stopError?.Reason == DotNetDiagnosticsFailure.Unreachable)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Unreachable, $"pid {endpoint.Pid} stopped answering during the session: {stopError.Message}", parseError);
        }

        if (!Volatile.Read(ref completed) && parseError is not null)
        {
            throw new DotNetDiagnosticsException(DotNetDiagnosticsFailure.Protocol, $"cannot parse the EventPipe stream: {parseError.Message}", parseError);
        }

        return Volatile.Read(ref completed);
    }

    /// <summary>
    /// Parses a nettrace stream, handlers attached by <paramref name="subscribe"/>: everything MemWatch runs on the bytes
    /// a target sends. Returns the exception that ended parsing early, or null.
    /// </summary>
    /// <remarks>The stream is the target's to write: the reader throws <see cref="InvalidDataException"/> or
    /// <see cref="EndOfStreamException"/> on a garbled or cut one, the connection <see cref="IOException"/>. They are
    /// returned to be reported, never let through (<c>DotNetParserFuzzTests</c> runs this on mutated captures).</remarks>
    internal static Exception? Parse(Stream stream, Action<NetTraceReader, Action> subscribe, Action complete)
    {
        try
        {
            var source = new NetTraceReader(stream);
            subscribe(source, complete);
            source.Process();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
