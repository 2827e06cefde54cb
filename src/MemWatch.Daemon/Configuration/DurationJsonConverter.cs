using System.Text.Json;
using System.Text.Json.Serialization;

namespace MemWatch.Daemon.Configuration;

/// <summary>Writes durations as the configuration takes them (<c>5s</c>, <c>1h</c>); reads either form.</summary>
internal sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ConfigDuration.TryParse(reader.GetString(), out TimeSpan d) ? d : throw new JsonException("not a duration");

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(ConfigDuration.Format(value));
}
