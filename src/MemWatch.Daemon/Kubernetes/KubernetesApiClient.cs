using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace MemWatch.Daemon.Kubernetes;

/// <summary>
/// The two calls the daemon makes to the Kubernetes API: list the pods of one node, then watch them from the list's
/// resource version (<c>GET /api/v1/pods?fieldSelector=spec.nodeName=NODE[&amp;watch=1...]</c>, newline-delimited
/// WatchEvents). A minimal client over HttpClient with the source-generated JSON of a few fields, so the native
/// executable carries no general-purpose Kubernetes library (README, "Kubernetes", says why).
/// </summary>
internal sealed class KubernetesApiClient : IDisposable
{
    public static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(30);

    // The server ends a watch after timeoutSeconds; a connection that stays silent much longer than that is dead.
    private const int WatchSeconds = 290;

    private readonly HttpClient _http;
    private readonly Uri _server;
    private readonly string _tokenFile;

    public KubernetesApiClient(Uri server, string tokenFile, string? caFile)
    {
        _server = server;
        _tokenFile = tokenFile;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        };
        if (caFile is not null && File.Exists(caFile))
        {
            X509Certificate2Collection ca = [];
            ca.ImportFromPemFile(caFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => ChainsTo(certificate, errors, ca),
            };
        }

        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<KubePodList> ListPodsAsync(string node, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(ListTimeout);
        using HttpResponseMessage response = await SendAsync(PodsUri(node, null), HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        await using Stream body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync(body, KubernetesJsonContext.Default.KubePodList, timeout.Token).ConfigureAwait(false)
            ?? throw new JsonException("the pod list is null");
    }

    public async IAsyncEnumerable<KubeWatchEvent> WatchPodsAsync(string node, string resourceVersion, [EnumeratorCancellation] CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(WatchSeconds + 60));
        using HttpResponseMessage response = await SendAsync(PodsUri(node, resourceVersion), HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        await using Stream body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        using var reader = new StreamReader(body);
        while (await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            yield return JsonSerializer.Deserialize(line, KubernetesJsonContext.Default.KubeWatchEvent)
                ?? throw new JsonException("a watch event is null");
        }
    }

    public void Dispose() => _http.Dispose();

    private Uri PodsUri(string node, string? resourceVersion)
    {
        string query = "fieldSelector=" + Uri.EscapeDataString("spec.nodeName=" + node);
        if (resourceVersion is not null)
        {
            query += $"&watch=1&allowWatchBookmarks=true&timeoutSeconds={WatchSeconds}&resourceVersion={Uri.EscapeDataString(resourceVersion)}";
        }

        return new Uri(_server, "/api/v1/pods?" + query);
    }

    private async Task<HttpResponseMessage> SendAsync(Uri uri, HttpCompletionOption completion, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (File.Exists(_tokenFile))
        {
            // Re-read each time: a projected service account token is rotated by the kubelet.
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(_tokenFile, cancellation).ConfigureAwait(false)).Trim());
        }

        HttpResponseMessage response = await _http.SendAsync(request, completion, cancellation).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string detail = response.ReasonPhrase ?? "";
            try
            {
                string text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
                if (JsonSerializer.Deserialize(text, KubernetesJsonContext.Default.KubeStatus) is { Message: { } message })
                {
                    detail = message;
                }
            }
            catch (JsonException)
            {
                // Not a Status object (a proxy's error page): the reason phrase says enough.
            }

            throw new KubernetesApiException((int)response.StatusCode, $"{(int)response.StatusCode} {detail}".ReplaceLineEndings(" "));
        }
    }

    private static bool ChainsTo(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection ca)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    /// <summary>The in-cluster API server from the variables the kubelet gives every container; null outside a cluster.</summary>
    public static Uri? InCluster()
    {
        string? host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        string? port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            return null;
        }

        return new Uri($"https://{(IPAddress.TryParse(host, out IPAddress? ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host)}:{port}");
    }
}
