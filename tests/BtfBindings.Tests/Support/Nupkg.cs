using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Xml.Linq;
using Xunit;

namespace BtfBindings.Tests.Support
{
    /// <summary>What a user sees of a package in a package feed's page or in an IDE: readme, license, repository, description, tags.</summary>
    public static class Nupkg
    {
        public const string RepositoryUrl = "https://github.com/btfbindings/BtfBindings";

        /// <summary>The nupkg's entries and its parsed .nuspec metadata element.</summary>
        public static (string[] entries, XElement metadata) Read(string nupkg)
        {
            using var zip = ZipFile.OpenRead(nupkg);
            var entries = zip.Entries.Select(e => e.FullName).ToArray();
            var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
            using var s = nuspec.Open();
            var doc = XDocument.Load(s);
            return (entries, doc.Root!.Elements().Single(e => e.Name.LocalName == "metadata"));
        }

        private static XElement? El(XElement metadata, string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name);

        /// <summary>Asserts the readme is packed and named in the nuspec, the MIT license expression, repository and project URL, a description and tags.</summary>
        public static void AssertUserFacingMetadata(string nupkg, string id)
        {
            var (entries, md) = Read(nupkg);
            Assert.Equal(id, El(md, "id")?.Value);
            Assert.Contains("README.md", entries);
            Assert.Equal("README.md", El(md, "readme")?.Value);
            var license = El(md, "license");
            Assert.NotNull(license);
            Assert.Equal("expression", license!.Attribute("type")?.Value);
            Assert.Equal("MIT", license.Value);
            var repo = El(md, "repository");
            Assert.NotNull(repo);
            Assert.Equal("git", repo!.Attribute("type")?.Value);
            Assert.Equal(RepositoryUrl, repo.Attribute("url")?.Value);
            Assert.Equal(RepositoryUrl, El(md, "projectUrl")?.Value);
            Assert.False(string.IsNullOrWhiteSpace(El(md, "description")?.Value), id + ": no description");
            var tags = (El(md, "tags")?.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("btf", tags);
            Assert.Contains("linux", tags);
            // The packed readme is a real one, mentioning the package's own install command.
            using var zip = ZipFile.OpenRead(nupkg);
            using var reader = new StreamReader(zip.GetEntry("README.md")!.Open());
            var readme = reader.ReadToEnd();
            Assert.Contains(id == "BtfBindings" ? "dotnet add package BtfBindings" : "dotnet tool install -g BtfBindings.Cli", readme);
        }
    }
}
