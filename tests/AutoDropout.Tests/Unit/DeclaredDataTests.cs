using System.Reflection;
using System.Text.Json;
using AutoDropout.Messages;

namespace AutoDropout.Tests.Unit;

/// <summary>Persisted JSON holds what a record declares, nothing a getter computes: a computed value written into a
/// journal would be read back by nobody and would freeze today's formula into old events.</summary>
public class DeclaredDataTests
{
    public static TheoryData<object> PersistedMessages() => GoldenEventTests.PersistedMessages();

    [Theory]
    [MemberData(nameof(PersistedMessages))]
    public void Every_written_field_is_a_constructor_parameter(object message)
    {
        using var json = JsonDocument.Parse(MessageCodec.ToBinary(message));
        Check(json.RootElement, message.GetType(), message.GetType().Name);
    }

    private static void Check(JsonElement json, Type type, string path)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (json.ValueKind == JsonValueKind.Array && ElementType(type) is { } element)
        {
            foreach (var item in json.EnumerateArray()) Check(item, element, path + "[]");
            return;
        }
        if (json.ValueKind != JsonValueKind.Object || type.Namespace?.StartsWith("AutoDropout", StringComparison.Ordinal) != true
            || type.GetCustomAttribute<System.Text.Json.Serialization.JsonConverterAttribute>() is not null
            || typeof(AutoDropout.Core.DropoutPattern).IsAssignableFrom(type))
            return;
        var parameters = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First().GetParameters()
            .ToDictionary(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name!), p => p.ParameterType);
        foreach (var property in json.EnumerateObject())
        {
            Assert.True(parameters.TryGetValue(property.Name, out var propertyType),
                $"{path}.{property.Name} is written but is not a constructor parameter of {type.Name}");
            Check(property.Value, propertyType!, $"{path}.{property.Name}");
        }
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
}
