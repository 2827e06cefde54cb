using System.Net;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Token buckets per client network: an IPv4 /24 or an IPv6 /64 (what one party holds and can rotate within), in a
/// fixed table of <see cref="Slots"/> buckets indexed by a keyed hash of the prefix. Memory is fixed and nothing is
/// ever forgotten to make room, so rotating addresses cannot flush the limiter: networks that hash to one slot share
/// its budget, which only ever errs towards refusing. The hash is Marvin with a seed random per process (what .NET's
/// own dictionaries use against chosen collisions), so which networks share a slot cannot be chosen from outside.
/// HMAC-SHA256 did the same job but loaded OpenSSL, 3.5 MiB resident, into a daemon that otherwise needs it only for
/// TLS or a bearer token.
/// </summary>
internal sealed class ClientLimiter
{
    public const int Slots = 4096;

    private readonly TokenBucket[] _buckets = new TokenBucket[Slots];
    private readonly TimeProvider _time;

    public ClientLimiter(double perSecond, double burst, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        PerSecond = perSecond;
        Burst = burst;
        for (int i = 0; i < Slots; i++)
        {
            _buckets[i] = new TokenBucket(burst, TokenBucket.NowMs(_time));
        }
    }

    public double PerSecond { get; }

    public double Burst { get; }

    /// <summary>Takes one token for <paramref name="client"/>'s network; false (with seconds until the next) when empty.</summary>
    public bool TryAcquire(IPAddress? client, out double retryAfterSeconds) =>
        _buckets[Slot(client)].TryTake(PerSecond, Burst, TokenBucket.NowMs(_time), out retryAfterSeconds);

    /// <summary>True when <paramref name="client"/>'s network has no token left, without taking one.</summary>
    public bool IsExhausted(IPAddress? client) => _buckets[Slot(client)].Peek(PerSecond, Burst, TokenBucket.NowMs(_time)) < 1;

    /// <summary>The slot of the client's network: also used to key other per-network state of the same size.</summary>
    public int Slot(IPAddress? client)
    {
        Span<byte> prefix = stackalloc byte[9];
        int length = NetworkPrefix(client, prefix);
        Span<char> chars = stackalloc char[9];
        for (int i = 0; i < length; i++)
        {
            chars[i] = (char)prefix[i];
        }

        return (int)((uint)string.GetHashCode(chars[..length]) % Slots);
    }

    /// <summary>The /24 of an IPv4 address (IPv4-mapped IPv6 included), the /64 of an IPv6 address.</summary>
    public static int NetworkPrefix(IPAddress? client, Span<byte> destination)
    {
        if (client is null)
        {
            destination[0] = 0;
            return 1;
        }

        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        client.TryWriteBytes(bytes, out int written);
        destination[0] = (byte)written;
        int keep = written == 4 ? 3 : 8;
        bytes[..keep].CopyTo(destination[1..]);
        return keep + 1;
    }

    /// <summary>The client's network as text for logs: <c>192.0.2.0/24</c>, <c>2001:db8::/64</c>.</summary>
    public static string NetworkText(IPAddress? client)
    {
        if (client is null)
        {
            return "unknown";
        }

        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }

        byte[] bytes = client.GetAddressBytes();
        int keep = bytes.Length == 4 ? 3 : 8;
        Array.Clear(bytes, keep, bytes.Length - keep);
        return $"{new IPAddress(bytes)}/{(bytes.Length == 4 ? 24 : 64)}";
    }
}
