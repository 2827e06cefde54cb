using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// <c>memwatch run --check-config</c>: the configuration as the daemon would run it (file, environment and command line
/// merged, defaults filled in, durations in Prometheus style), with what is secret masked: the token and the TLS key
/// are shown only as whether they were loaded, never their contents.
/// </summary>
internal static class EffectiveConfiguration
{
    public static string Render(DaemonSettings settings)
    {
        DaemonOptions options = settings.Options ?? new DaemonOptions();
        JsonNode root = JsonSerializer.SerializeToNode(options, EffectiveConfigurationJsonContext.Default.DaemonOptions)!;
        root["Listen"] = settings.Listen.ToString();
        root["StateDirectory"] = settings.StateDirectory;
        JsonObject auth = root["Auth"]!.AsObject();
        auth["Token"] = settings.Token is null ? null : $"<masked: {settings.Token.Length} bytes loaded>";
        if (settings.Certificate is { } certificate)
        {
            JsonObject tls = root["Tls"]!.AsObject();
            tls["Subject"] = certificate.Subject;
            tls["NotAfter"] = certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            tls["Key"] = "<masked: loaded>";
        }

        if (options.Targets.Count == 0)
        {
            root["Targets"] = new JsonArray(new JsonObject { ["Name"] = "default", ["MinRssMiB"] = 50, ["Introspect"] = false, ["AllowActions"] = false });
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

[JsonSourceGenerationOptions(Converters = [typeof(DurationJsonConverter)], DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(DaemonOptions))]
internal sealed partial class EffectiveConfigurationJsonContext : JsonSerializerContext;
