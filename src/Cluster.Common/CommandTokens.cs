using System.Security.Cryptography;
using System.Text;

namespace AutoDropout.Cluster;

/// <summary>What a request's token allows.</summary>
public enum Access { None, Read, Operator }

/// <summary>
/// The endpoint's two tokens: the read token lets a client look (searches, trials, patterns), the operator token
/// also lets it change state. Tokens are compared as SHA-256 digests in constant time, so neither their content
/// nor their length shows in how long a refusal takes.
/// </summary>
public sealed class CommandTokens
{
    private readonly byte[] _operator;
    private readonly byte[] _read;

    public CommandTokens(string operatorToken, string readToken)
    {
        if (string.IsNullOrWhiteSpace(operatorToken) || string.IsNullOrWhiteSpace(readToken))
            throw new ArgumentException("a command token is empty");
        // otherwise every holder of the read token could change state
        if (operatorToken == readToken) throw new ArgumentException("the read token must differ from the operator token");
        _operator = Digest(operatorToken);
        _read = Digest(readToken);
    }

    /// <summary>What an Authorization header ("Bearer TOKEN") allows.</summary>
    public Access Check(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal)) return Access.None;
        var presented = Digest(authorization["Bearer ".Length..].Trim());
        bool isOperator = CryptographicOperations.FixedTimeEquals(presented, _operator);
        bool isRead = CryptographicOperations.FixedTimeEquals(presented, _read);
        return isOperator ? Access.Operator : isRead ? Access.Read : Access.None;
    }

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
