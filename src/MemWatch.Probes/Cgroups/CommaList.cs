namespace MemWatch.Probes.Cgroups;

/// <summary>Membership tests on comma-separated option lists (controllers, mount super options).</summary>
internal static class CommaList
{
    public static bool Contains(string list, string item)
    {
        ReadOnlySpan<char> rest = list;
        while (true)
        {
            int comma = rest.IndexOf(',');
            ReadOnlySpan<char> token = comma < 0 ? rest : rest[..comma];
            if (token.SequenceEqual(item))
            {
                return true;
            }

            if (comma < 0)
            {
                return false;
            }

            rest = rest[(comma + 1)..];
        }
    }
}
