namespace AutoDropout.Messages;

/// <summary>Everything AutoDropout sends between nodes or persists implements this, so the serializer is bound once.</summary>
public interface IAutoDropoutMessage;
