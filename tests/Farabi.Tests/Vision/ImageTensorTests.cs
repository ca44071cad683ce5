using Farabi.Vision;
using TorchSharp;
using Xunit;

namespace Farabi.Tests.Vision;

public sealed class ImageTensorTests
{
    [Fact]
    public void Chw_layout_puts_each_channel_in_its_own_plane()
    {
        var img = new RgbImage(2, 1);
        img[0, 0] = new Rgb(255, 0, 51);
        img[1, 0] = new Rgb(0, 102, 255);
        var chw = ImageTensor.ToChw(img);
        Assert.Equal([1f, 0f, 0f, 102 / 255f, 51 / 255f, 1f], chw);
        Assert.Equal(img.Pixels, ImageTensor.FromChw(chw, 3, 1, 2).Pixels);
    }

    [Fact]
    public void Tensor_shapes_and_round_trip()
    {
        var a = RgbImage.Filled(5, 4, new Rgb(10, 20, 30));
        var b = RgbImage.Filled(5, 4, new Rgb(200, 100, 0));
        using var one = ImageTensor.ToTensor(a);
        Assert.Equal([3L, 4, 5], one.shape);
        Assert.Equal(20 / 255f, one[1, 3, 4].item<float>());
        using var batch = ImageTensor.Batch([a, b]);
        Assert.Equal([2L, 3, 4, 5], batch.shape);
        Assert.Equal(200 / 255f, batch[1, 0, 0, 0].item<float>());
        var back = ImageTensor.FromTensor(batch);
        Assert.Equal(a.Pixels, back[0].Pixels);
        Assert.Equal(b.Pixels, back[1].Pixels);
        Assert.Throws<ArgumentException>(() => ImageTensor.Batch([a, RgbImage.Filled(4, 4, default)]));
        using var four = torch.zeros(4, 2, 2);
        Assert.Throws<ArgumentException>(() => ImageTensor.FromTensor(four));
    }

    [Fact]
    public void Clip_batch_is_preprocessed()
    {
        var pre = new ClipPreprocess(new ClipPreprocessOptions { Size = 8 });
        using var batch = ImageTensor.Batch([RgbImage.Filled(16, 12, new Rgb(255, 255, 255))], pre);
        Assert.Equal([1L, 3, 8, 8], batch.shape);
        Assert.Equal((1f - 0.48145466f) / 0.26862954f, batch[0, 0, 3, 3].item<float>());
    }
}
