using System.Net;
using LoxiLb.Edge5G.Datapath.Abi;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>The address octets map keys and entries hold, written without allocating.</summary>
public class AddressBytesTests
{
    [Theory]
    [InlineData("198.51.100.1", "00000000000000000000ffffc6336401")]
    [InlineData("2001:db8::1", "20010db8000000000000000000000001")]
    public void WriteMapped_PutsIpv4BehindTheMappedPrefix_AndIpv6AsIs(string address, string hex)
    {
        var bytes = new byte[16];
        Array.Fill(bytes, (byte)0xAA); // every octet is written
        AddressBytes.WriteMapped(IPAddress.Parse(address), bytes);
        Assert.Equal(hex, Convert.ToHexString(bytes).ToLowerInvariant());
    }

    [Fact]
    public void WritePlain_Ipv4WordAndPrefix64_MatchTheAddressOctets()
    {
        var v4 = IPAddress.Parse("192.0.2.10");
        var plain = new byte[16];
        Array.Fill(plain, (byte)0xAA);
        AddressBytes.WritePlain(v4, plain);
        Assert.Equal("c000020a000000000000000000000000", Convert.ToHexString(plain).ToLowerInvariant());
        Assert.Equal(BitConverter.ToUInt32(v4.GetAddressBytes()), AddressBytes.Ipv4Word(v4));
        Assert.Throws<ArgumentException>(() => AddressBytes.Ipv4Word(IPAddress.Parse("2001:db8::1")));

        var prefix = new byte[8];
        AddressBytes.WritePrefix64(IPAddress.Parse("2001:db8:1:2:3:4:5:6"), prefix);
        Assert.Equal("20010db800010002", Convert.ToHexString(prefix).ToLowerInvariant());
    }
}
