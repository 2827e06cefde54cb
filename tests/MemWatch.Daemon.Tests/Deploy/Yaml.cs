using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace MemWatch.Daemon.Tests.Deploy;

/// <summary>YAML documents as plain trees (maps of strings, lists, scalar strings) for the chart tests.</summary>
public static class Yaml
{
    private static readonly IDeserializer s_deserializer = new DeserializerBuilder().Build();

    public static List<Dictionary<object, object>> Documents(string text)
    {
        var documents = new List<Dictionary<object, object>>();
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            object? doc = s_deserializer.Deserialize<object>(parser);
            if (doc is Dictionary<object, object> map)
            {
                documents.Add(map);
            }
        }

        return documents;
    }

    public static Dictionary<object, object> Single(string text) => Assert.Single(Documents(text));

    /// <summary>Follows map keys and list indexes (as ints); throws with the path when something is missing.</summary>
    public static object At(object node, params object[] path)
    {
        object current = node;
        foreach (object step in path)
        {
            current = (current, step) switch
            {
                (Dictionary<object, object> map, string key) when map.TryGetValue(key, out object? v) && v is not null => v,
                (List<object> list, int i) when i < list.Count => list[i],
                _ => throw new KeyNotFoundException($"no '{step}' in {string.Join('.', path)}"),
            };
        }

        return current;
    }

    public static Dictionary<object, object> Map(object node, params object[] path) => (Dictionary<object, object>)At(node, path);

    public static List<object> List(object node, params object[] path) => (List<object>)At(node, path);

    public static string Text(object node, params object[] path) => (string)At(node, path);

    public static bool Has(object node, params object[] path)
    {
        try
        {
            At(node, path);
            return true;
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }

    public static bool DeepEquals(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (string x, string y) => x == y,
        (List<object> x, List<object> y) => x.Count == y.Count && x.Zip(y).All(p => DeepEquals(p.First, p.Second)),
        (Dictionary<object, object> x, Dictionary<object, object> y) =>
            x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out object? v) && DeepEquals(kv.Value, v)),
        _ => false,
    };
}
