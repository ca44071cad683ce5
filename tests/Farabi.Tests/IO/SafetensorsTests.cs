using System.Buffers.Binary;
using System.Text;
using Farabi.IO;
using Farabi.Tests.Models;
using Xunit;
using static TorchSharp.torch;

namespace Farabi.Tests.IO;

public class SafetensorsTests
{
    static Dictionary<string, Tensor> Sample()
    {
        var ids = TinyModels.Ids(100, 2, 3); // touches a Farabi type before torch
        using var g = new Generator(3, CPU);
        return new()
        {
            ["b.weight"] = randn([4, 5], generator: g),
            ["a.bias"] = randn([5], generator: g),
            ["ids"] = ids,
            ["scalar"] = tensor(3.5f),
        };
    }

    [Fact]
    public void SaveThenLoadIsBitExactAndKeepsMetadata()
    {
        var dir = TinyModels.TempDir();
        var path = Path.Combine(dir, "t.safetensors");
        var tensors = Sample();
        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["step"] = "12" });
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("12", file.Metadata["step"]);
        Assert.Equal(tensors.Keys.Order(), file.Entries.Keys.Order());
        Assert.Equal("I64", file.Entries["ids"].DType);
        Assert.Empty(file.Entries["scalar"].Shape);
        foreach (var (name, t) in tensors)
        {
            using var back = file.Read(name);
            Assert.Equal(t.dtype, back.dtype);
            Assert.Equal(t.shape, back.shape);
            Assert.Equal(t.bytes.ToArray(), back.bytes.ToArray());
        }
        // The data section starts 8-byte aligned, as the reference writer leaves it.
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path).AsSpan(0, 8));
        Assert.Equal(0UL, headerLength % 8);
    }

    [Fact]
    public void HalfPrecisionTensorsAreReadAsFloat32()
    {
        var dir = TinyModels.TempDir();
        var path = Path.Combine(dir, "half.safetensors");
        _ = TinyModels.Ids(2, 1, 1);
        var values = tensor(new float[] { 1.5f, -2.25f, 0.1f });
        // Hand-written file: F16 and BF16 copies of the same values.
        using var f16 = values.to_type(ScalarType.Float16);
        using var bf16 = values.to_type(ScalarType.BFloat16);
        var header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[6,12]}}";
        WriteRaw(path, header, [.. f16.bytes.ToArray(), .. bf16.bytes.ToArray()]);
        var loaded = Safetensors.Load(path);
        Assert.Equal(ScalarType.Float32, loaded["h"].dtype);
        Assert.True(loaded["h"].allclose(values, atol: 1e-3));
        Assert.True(loaded["b"].allclose(values, atol: 1e-2));
    }

    static void WriteRaw(string path, string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void TruncatedFileIsAClearError()
    {
        var dir = TinyModels.TempDir();
        var path = Path.Combine(dir, "t.safetensors");
        Safetensors.Save(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains(path, e.Message);
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path)).Message);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "repeats a key")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 12 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "ends at data offset 16")]
    [InlineData("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", "unsupported dtype")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "overlap")]
    public void CorruptHeaderIsAClearError(string header, string expected)
    {
        _ = TinyModels.Ids(2, 1, 1);
        var path = Path.Combine(TinyModels.TempDir(), "bad.safetensors");
        WriteRaw(path, header, new byte[8]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ImplausibleHeaderLengthIsAClearError()
    {
        var path = Path.Combine(TinyModels.TempDir(), "garbage.safetensors");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("this is not a safetensors file at all"));
        Assert.Contains("corrupt header", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path)).Message);
    }
}
