namespace AutoDropout.Tests.Unit;

public class LicenceTests
{
    [Fact]
    public void The_bundled_images_carry_their_MIT_notice_inside_the_assembly_that_embeds_them()
    {
        using var stream = typeof(AutoDropout.Training.ImageDatasets).Assembly.GetManifestResourceStream("AutoDropout.Data.fashion-mnist-LICENSE");
        Assert.NotNull(stream);
        var notice = new StreamReader(stream).ReadToEnd();
        Assert.Contains("Copyright © 2017 Zalando SE", notice);
        Assert.Contains("The above copyright notice and this permission notice shall be included", notice);
    }
}
