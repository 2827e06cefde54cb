using System.Security.Cryptography;
using System.Text;

namespace MemWatch.Daemon.Http;

/// <summary>
/// Checks <c>Authorization: Bearer TOKEN</c> against the configured token in constant time (both are hashed first, so
/// neither the content nor the length leaks through timing). The token is never logged or echoed.
/// </summary>
internal sealed class BearerAuthenticator
{
    private readonly byte[]? _tokenHash;

    public BearerAuthenticator(byte[]? token)
    {
        _tokenHash = token is null ? null : SHA256.HashData(token);
    }

    /// <summary>False when no token file is configured: control actions are disabled.</summary>
    public bool Enabled => _tokenHash is not null;

    public BearerCheck Check(string? authorization)
    {
        if (_tokenHash is null)
        {
            return BearerCheck.Disabled;
        }

        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length > 4096)
        {
            return BearerCheck.Missing;
        }

        ReadOnlySpan<char> presented = authorization.AsSpan(scheme.Length).Trim();
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(presented.Length)];
        int n = Encoding.UTF8.GetBytes(presented, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..n], hash);
        return CryptographicOperations.FixedTimeEquals(hash, _tokenHash) ? BearerCheck.Valid : BearerCheck.Invalid;
    }
}

internal enum BearerCheck
{
    Valid,
    Disabled,
    Missing,
    Invalid,
}
