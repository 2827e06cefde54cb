using System.Collections.Concurrent;
using System.Net;
using System.Text;
using MemWatch.Daemon.Tests.Support;

namespace MemWatch.Daemon.Tests.Kubernetes;

/// <summary>
/// A local HTTP server speaking the Kubernetes API's pod list and watch as the API server does: <c>GET /api/v1/pods</c>
/// with a <c>fieldSelector</c> returns a PodList (<c>metadata.resourceVersion</c>, <c>items</c>); with <c>watch=1</c>
/// it holds the response open, chunked, and writes one WatchEvent JSON object per line as the test adds them. Other
/// behaviours: answer 403 with a Status body (no RBAC), or accept and never answer (a hung API server).
/// </summary>
public sealed class FakeKubernetesApi : IDisposable
{
    public enum Behaviour
    {
        Serve,
        Forbid,
        Hang,
    }

    private readonly HttpListener _listener = new();
    private readonly Behaviour _behaviour;
    private readonly BlockingCollection<string> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<HttpListenerContext> _held = [];
    private readonly Thread _thread;

    public FakeKubernetesApi(Behaviour behaviour, string listResourceVersion, params string[] pods)
    {
        _behaviour = behaviour;
        Port = DaemonProcess.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        ListBody = $$"""{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"{{listResourceVersion}}"},"items":[{{string.Join(",", pods)}}]}""";
        _thread = new Thread(Serve) { IsBackground = true, Name = "fake-kube-api" };
        _thread.Start();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string ListBody { get; }

    /// <summary>Every request's path and query, and its Authorization header.</summary>
    public ConcurrentQueue<(string PathAndQuery, string? Authorization)> Requests { get; } = new();

    /// <summary>A Pod object from Fixtures/pod.json, as the API server writes it for a pod on <paramref name="node"/>.</summary>
    public static string Pod(string node, string name, string @namespace, string uid, string resourceVersion, string container, string containerId)
        => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Kubernetes", "Fixtures", "pod.json"))
            .Replace("$NAMESPACE", @namespace, StringComparison.Ordinal)
            .Replace("$NAME", name, StringComparison.Ordinal)
            .Replace("$UID", uid, StringComparison.Ordinal)
            .Replace("$RV", resourceVersion, StringComparison.Ordinal)
            .Replace("$NODE", node, StringComparison.Ordinal)
            .Replace("$CONTAINER", container, StringComparison.Ordinal)
            .Replace("$INITID", new string('e', 64), StringComparison.Ordinal)
            .Replace("$OTHERID", new string('f', 64), StringComparison.Ordinal)
            .Replace("$ID", containerId, StringComparison.Ordinal)
            .ReplaceLineEndings("");

    /// <summary>Sends one watch event (ADDED, MODIFIED, DELETED) to the open watch, or the next one to open.</summary>
    public void Emit(string type, string podJson) => _events.Add($$"""{"type":"{{type}}","object":{{podJson}}}""");

    public void Dispose()
    {
        _stop.Cancel();
        _events.CompleteAdding();
        _listener.Close();
        _thread.Join(TimeSpan.FromSeconds(10));
    }

    private void Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = _listener.GetContext();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Requests.Enqueue((context.Request.Url!.PathAndQuery, context.Request.Headers["Authorization"]));
            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        try
        {
            HttpListenerResponse response = context.Response;
            if (_behaviour == Behaviour.Hang)
            {
                lock (_held)
                {
                    _held.Add(context);
                }

                return;
            }

            if (_behaviour == Behaviour.Forbid)
            {
                Write(response, 403, """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"system:serviceaccount:monitoring:memwatch\" cannot list resource \"pods\" in API group \"\" at the cluster scope","reason":"Forbidden","details":{"kind":"pods"},"code":403}""");
                return;
            }

            if (context.Request.Url!.AbsolutePath != "/api/v1/pods")
            {
                Write(response, 404, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
                return;
            }

            if (context.Request.QueryString["watch"] is not ("1" or "true"))
            {
                Write(response, 200, ListBody);
                return;
            }

            response.StatusCode = 200;
            response.ContentType = "application/json";
            response.SendChunked = true;
            Stream output = response.OutputStream;
            output.Flush();
            foreach (string e in _events.GetConsumingEnumerable(_stop.Token))
            {
                byte[] line = Encoding.UTF8.GetBytes(e + "\n");
                output.Write(line);
                output.Flush();
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The daemon hung up, or the test ended.
        }
    }

    private static void Write(HttpListenerResponse response, int status, string body)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        response.Close();
    }
}
