namespace AutoDropout.Core;

/// <summary>Token types of the ConvNet space, in the order the controller writes them for each site.</summary>
public enum TokenType
{
    Size = 0,
    Stride = 1,
    Repeat = 2,
    Rotate = 3,
    ShearX = 4,
    ShearY = 5,
    ShareChannels = 6,
    Residual = 7,
}

public static class TokenTypes
{
    public const int PerSite = 8;

    public static string WireName(this TokenType type) => type switch
    {
        TokenType.Size => "size",
        TokenType.Stride => "stride",
        TokenType.Repeat => "repeat",
        TokenType.Rotate => "rotate",
        TokenType.ShearX => "shear_x",
        TokenType.ShearY => "shear_y",
        TokenType.ShareChannels => "share_c",
        TokenType.Residual => "residual",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
