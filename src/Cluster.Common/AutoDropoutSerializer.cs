using Akka.Actor;
using Akka.Serialization;
using AutoDropout.Messages;

namespace AutoDropout.Cluster;

/// <summary>The one Akka serializer for AutoDropout's messages and events, bound to <see cref="IAutoDropoutMessage"/>;
/// the manifests and the JSON are <see cref="MessageCodec"/>'s.</summary>
public sealed class AutoDropoutSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4242;

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => MessageCodec.Manifest(o);

    public override byte[] ToBinary(object obj) => MessageCodec.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest) => MessageCodec.FromBinary(bytes, manifest);
}
