using Farabi.Cli.Plots;
using Farabi.Vision;
using SkiaSharp;
using Xunit;

namespace Farabi.Tests.Plots;

public sealed class ChartTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("farabi-plots-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Where FARABI_KEEP_PLOTS names a folder, the sample charts are copied there to be looked at.</summary>
    static void Keep(string path)
    {
        var keep = Environment.GetEnvironmentVariable("FARABI_KEEP_PLOTS");
        if (!string.IsNullOrEmpty(keep)) { Directory.CreateDirectory(keep); File.Copy(path, Path.Combine(keep, Path.GetFileName(path)), true); }
    }

    static bool Near(Rgb c, SKColor k, int tol = 12) => Math.Abs(c.R - k.Red) <= tol && Math.Abs(c.G - k.Green) <= tol && Math.Abs(c.B - k.Blue) <= tol;

    static List<(int X, int Y)> PixelsOf(RgbImage img, SKColor colour, SKRect area, int tol = 12)
    {
        var found = new List<(int, int)>();
        for (var y = (int)area.Top + 1; y < (int)area.Bottom - 1; y++)
            for (var x = (int)area.Left + 1; x < (int)area.Right - 1; x++)
                if (Near(img[x, y], colour, tol)) found.Add((x, y));
        return found;
    }

    string SaveAndCheck(Chart chart, string name)
    {
        var path = Path.Combine(_dir, name);
        chart.SavePng(path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        var img = ImageFile.Load(path);
        Assert.Equal((chart.Width, chart.Height), (img.Width, img.Height));
        Keep(path);
        return path;
    }

    [Fact]
    public void Category_x_axis_puts_index_i_on_the_ith_category_centre()
    {
        var plot = new LinePlot { Title = "PGR vs strong model", XLabel = "strong model", YLabel = "PGR", XCategories = ["gpt-small", "gpt-medium", "gpt-large"], Legend = LegendPosition.None, Markers = false }
            .Add("weak gpt-tiny", [0, 1, 2], [0.1, 0.1, 0.9]);
        SaveAndCheck(plot, "categories.png");
        var img = plot.Render();
        var area = plot.PlotArea;
        var px = PixelsOf(img, Chart.Palette[0], area);
        // The line is flat over the first two categories (centres at 1/6 and 1/2 of the width) and rises to the third (5/6).
        var firstCentre = area.Left + area.Width / 6;
        var lastCentre = area.Left + area.Width * 5 / 6;
        Assert.DoesNotContain(px, p => p.X < firstCentre - 3 || p.X > lastCentre + 3);
        Assert.Contains(px, p => p.X < firstCentre + 3);
        Assert.Contains(px, p => p.X > lastCentre - 3);
        var flat = px.Where(p => p.X < area.Left + area.Width / 2 - 3).ToList();
        Assert.True(flat.Max(p => p.Y) - flat.Min(p => p.Y) < 6);
    }

    [Fact]
    public void A_rising_series_draws_pixels_that_rise_left_to_right()
    {
        var x = Enumerable.Range(0, 11).Select(i => (double)(1 << i)).ToArray();
        var y = x.Select(v => 0.2 + 0.05 * Math.Log2(v)).ToArray();
        var flat = x.Select(_ => 0.3).ToArray();
        var plot = new LinePlot { Title = "best-of-N", XLabel = "N (samples)", YLabel = "accuracy", XScale = AxisScale.Log2, Width = 640, Height = 420 }
            .Add("rising", x, y, lower: y.Select(v => v - 0.04).ToArray(), upper: y.Select(v => v + 0.04).ToArray())
            .Add("flat", x, flat);
        SaveAndCheck(plot, "line.png");
        var img = plot.Render();
        var area = plot.PlotArea;
        var rising = PixelsOf(img, Chart.Palette[0], area);
        Assert.True(rising.Count > 200, $"{rising.Count} series pixels");
        double MeanY(IEnumerable<(int X, int Y)> px) => px.Average(p => p.Y);
        var third = area.Width / 3;
        var left = MeanY(rising.Where(p => p.X < area.Left + third));
        var right = MeanY(rising.Where(p => p.X > area.Right - third));
        Assert.True(left - right > area.Height * 0.3, $"left mean y {left:F0}, right mean y {right:F0}: the line should rise");
        // The flat series stays on one row band.
        // (The legend, top right, also holds an orange line: look below it.)
        var flatPx = PixelsOf(img, Chart.Palette[1], area).Where(p => p.Y > area.Top + 80).ToList();
        Assert.True(flatPx.Count > 100);
        Assert.True(flatPx.Max(p => p.Y) - flatPx.Min(p => p.Y) < 10);
        // The 95% band is a light tint of the series colour, above and below the line in the middle.
        var tint = BlendOnWhite(Chart.Palette[0], 56);
        var mid = (int)(area.Left + area.Width / 2);
        var column = Enumerable.Range((int)area.Top, (int)area.Height).Where(yy => Near(img[mid, yy], tint, 10)).ToList();
        var line = Enumerable.Range((int)area.Top, (int)area.Height).Where(yy => Near(img[mid, yy], Chart.Palette[0])).ToList();
        Assert.NotEmpty(line);
        Assert.Contains(column, yy => yy < line.Min());
        Assert.Contains(column, yy => yy > line.Max());
    }

    static SKColor BlendOnWhite(SKColor c, byte alpha)
    {
        byte B(byte v) => (byte)Math.Round(255 + (v - 255) * alpha / 255.0);
        return new SKColor(B(c.Red), B(c.Green), B(c.Blue));
    }

    [Fact]
    public void Heatmap_hot_cell_is_where_the_maximum_is()
    {
        var m = new double[4, 5];
        for (var r = 0; r < 4; r++) for (var c = 0; c < 5; c++) m[r, c] = r + c * 0.1;
        m[2, 3] = 10;
        var map = new Heatmap
        {
            Title = "similarity", XLabel = "caption", YLabel = "image", Width = 600, Height = 420,
            RowLabels = ["img 0", "img 1", "img 2", "img 3"], ColumnLabels = ["a cat", "a dog", "a ship", "a red circle", "a truck"],
        }.SetValues(m);
        SaveAndCheck(map, "heatmap.png");
        var img = map.Render();
        var hot = PixelsOf(img, Heatmap.ColourAt(1), map.PlotArea, tol: 2);
        Assert.True(hot.Count > 100);
        var area = map.PlotArea;
        float cw = area.Width / 5, ch = area.Height / 4;
        Assert.All(hot, p =>
        {
            Assert.InRange(p.X, area.Left + 3 * cw - 1, area.Left + 4 * cw + 1);
            Assert.InRange(p.Y, area.Top + 2 * ch - 1, area.Top + 3 * ch + 1);
        });
        // The coldest colour is the minimum cell (0, 0).
        var cold = PixelsOf(img, Heatmap.ColourAt(0), area, tol: 2);
        Assert.All(cold, p => Assert.True(p.X < area.Left + cw + 1 && p.Y < area.Top + ch + 1));
    }

    [Fact]
    public void A_confusion_matrix_with_long_class_names_turns_its_column_labels()
    {
        string[] names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
        var counts = new double[10, 10];
        for (var r = 0; r < 10; r++) for (var c = 0; c < 10; c++) counts[r, c] = r == c ? 150 + 5 * r : (r * 7 + c * 3) % 11;
        var confusion = new Heatmap { Title = "CIFAR-10 zero-shot confusion", XLabel = "predicted", YLabel = "true", RowLabels = names, ColumnLabels = names, ValueFormat = "0", Width = 700, Height = 640 }
            .SetValues(counts);
        SaveAndCheck(confusion, "confusion.png");
        var shortNames = new Heatmap { RowLabels = names, ColumnLabels = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray(), Width = 700, Height = 640 }.SetValues(counts);
        shortNames.Render();
        confusion.Render();
        // Vertical labels need more room under the matrix than one line of digits.
        Assert.True(confusion.PlotArea.Bottom < shortNames.PlotArea.Bottom - 30);
        // The diagonal is the bright line: every diagonal cell centre is brighter than its row neighbours.
        var img = confusion.Render();
        var a = confusion.PlotArea;
        float cw = a.Width / 10, ch = a.Height / 10;
        int Brightness(int r, int c) { var p = img[(int)(a.Left + (c + 0.2f) * cw), (int)(a.Top + (r + 0.2f) * ch)]; return p.R + p.G + p.B; }
        for (var r = 0; r < 10; r++) Assert.True(Brightness(r, r) > Brightness(r, (r + 1) % 10) + 100);
    }

    [Fact]
    public void A_long_loss_curve_draws_without_markers()
    {
        var steps = Enumerable.Range(1, 500).Select(i => (double)i).ToArray();
        var loss = steps.Select(s => 4.0 * Math.Exp(-s / 120) + 1.1 + 0.05 * Math.Sin(s / 3)).ToArray();
        var plot = new LinePlot { Title = "training loss", XLabel = "step", YLabel = "loss", Legend = LegendPosition.TopRight }
            .Add("train", steps, loss).Add("validation", steps.Where((_, i) => i % 50 == 49).ToArray(), loss.Where((_, i) => i % 50 == 49).Select(v => v + 0.1).ToArray());
        SaveAndCheck(plot, "loss.png");
        var img = plot.Render();
        var a = plot.PlotArea;
        var train = PixelsOf(img, Chart.Palette[0], a).Where(p => !(p.X > a.Right - 200 && p.Y < a.Top + 70)).ToList(); // not the legend
        // A falling curve starts near the top of the plot (small pixel y) and ends lower down.
        double leftY = train.Where(p => p.X < a.Left + 40).Average(p => p.Y), rightY = train.Where(p => p.X > a.Right - 40).Average(p => p.Y);
        Assert.True(leftY < rightY - a.Height / 2, $"left {leftY:F0}, right {rightY:F0}, plot {a}");
    }

    [Fact]
    public void Bar_heights_are_proportional_to_values()
    {
        var chart = new BarChart
        {
            Title = "weak-to-strong", YLabel = "accuracy", Width = 600, Height = 400,
            Categories = ["small→medium", "small→large"],
        }.Add("weak", [0.2, 0.6], errors: [0.02, 0.03]).Add("ceiling", [0.4, 0.8]);
        SaveAndCheck(chart, "bars.png");
        var img = chart.Render();
        var area = chart.PlotArea;
        // (The legend, top left, holds a blue box: look below it.)
        var weak = PixelsOf(img, Chart.Palette[0], area, tol: 0).Where(p => p.Y > area.Top + 70).ToList();
        int Height(IEnumerable<(int X, int Y)> px) => px.Max(p => p.Y) - px.Min(p => p.Y) + 1;
        var h0 = Height(weak.Where(p => p.X < area.MidX));
        var h1 = Height(weak.Where(p => p.X > area.MidX));
        Assert.InRange(h1 / (double)h0, 2.8, 3.2);
    }

    [Fact]
    public void Scatter_points_land_at_their_log_x_positions()
    {
        var plot = new ScatterPlot { Title = "accuracy vs trainable parameters", XLabel = "trainable parameters", YLabel = "accuracy", XScale = AxisScale.Log10, Width = 600, Height = 400, Legend = LegendPosition.TopLeft }
            .Add(1_000, 0.5, "r=1", "LoRA").Add(100_000, 0.7, "r=64", "LoRA").Add(10_000_000, 0.9, "full", "full fine-tune");
        SaveAndCheck(plot, "scatter.png");
        var img = plot.Render();
        var area = plot.PlotArea;
        // (The legend, top left, holds a dot of each colour: leave it out.)
        bool InLegend((int X, int Y) p) => p.X < area.Left + 200 && p.Y < area.Top + 70;
        var lora = PixelsOf(img, Chart.Palette[0], area, tol: 4).Where(p => !InLegend(p)).ToList();
        var full = PixelsOf(img, Chart.Palette[1], area, tol: 4).Where(p => !InLegend(p)).ToList();
        Assert.NotEmpty(lora);
        Assert.NotEmpty(full);
        // Full fine-tune is far right and high; the two LoRA points sit at 1k and 100k, evenly spaced in log x.
        Assert.True(full.Average(p => p.X) > lora.Max(p => p.X));
        Assert.True(full.Average(p => p.Y) < lora.Min(p => p.Y));
        var loraLeft = lora.Where(p => p.X < area.MidX - area.Width / 6).Average(p => p.X);
        var loraMid = lora.Where(p => p.X >= area.MidX - area.Width / 6).Average(p => p.X);
        Assert.InRange((loraMid - loraLeft) / (full.Average(p => p.X) - loraMid), 0.9, 1.1);
    }

    [Fact]
    public void Scatter_labels_of_crowded_points_do_not_overlap_each_other_the_points_or_the_legend()
    {
        // Five points within a few pixels of each other (LoRA r=4 and DoRA r=4 have nearly the same size and accuracy).
        var points = new[] { new SKPoint(300, 200), new SKPoint(304, 203), new SKPoint(308, 198), new SKPoint(302, 206), new SKPoint(590, 30) };
        var labels = points.Select((_, i) => (i, new SKSize(60, 15))).ToList();
        var bounds = new SKRect(40, 20, 600, 380);
        var legend = new SKRect(480, 300, 590, 370);
        var boxes = ScatterPlot.PlaceLabels(points, labels, bounds, [legend]);

        Assert.Equal(points.Length, boxes.Count);
        foreach (var (i, box) in boxes)
        {
            Assert.True(bounds.Contains(box), $"label {i} {box} leaves the plot");
            Assert.False(box.IntersectsWith(legend), $"label {i} covers the legend");
            foreach (var p in points) Assert.False(box.Contains(p), $"label {i} covers a point");
            foreach (var (j, other) in boxes)
                if (j != i) Assert.False(box.IntersectsWith(other), $"labels {i} and {j} overlap");
        }
        // The lone point in the top-right corner is labelled inside the plot, next to it.
        var corner = boxes.Single(b => b.Index == 4).Box;
        Assert.True(corner.Right <= bounds.Right && corner.Left > 400);
    }

    [Fact]
    public void Charts_render_without_fonts()
    {
        ChartGraphics.DisableFonts = true;
        try
        {
            var plot = new LinePlot { Title = "no fonts here", XLabel = "step", YLabel = "loss" }.Add("loss", [3.0, 2.0, 1.5, 1.2]);
            var img = plot.Render();
            Assert.Equal(800, img.Width);
            // No text: nothing dark above the plot area where the title would be.
            for (var y = 0; y < (int)plot.PlotArea.Top - 2; y++)
                for (var x = 0; x < img.Width; x++)
                    Assert.True(img[x, y].R > 200, $"dark pixel at ({x}, {y}) without fonts");
            new Heatmap { Title = "t", RowLabels = ["a"], ColumnLabels = ["b"] }.SetValues(new double[,] { { 1 } }).Render();
        }
        finally { ChartGraphics.DisableFonts = false; }
    }

    [Fact]
    public void Log_axes_space_powers_evenly_and_reject_non_positive_values()
    {
        var a = new Axis(AxisScale.Log2, [1, 16], padFraction: 0);
        Assert.Equal(0.5, a.Fraction(4), 9);
        Assert.Equal([1.0, 2, 4, 8, 16], a.Ticks().Select(t => t.Value));
        Assert.Throws<ArgumentException>(() => new Axis(AxisScale.Log10, [0, 10]));
        Assert.Equal("10k", Axis.FormatCount(10_000));
        Assert.Equal("1.5M", Axis.FormatCount(1_500_000));
        var lin = new Axis(AxisScale.Linear, [0.13, 0.87], padFraction: 0);
        Assert.Equal([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], lin.Ticks().Select(t => Math.Round(t.Value, 9)));
        Assert.Throws<ArgumentException>(() => new LinePlot().Add("bad", [1, 2], [1]));
    }
}
