using BtfBindings;

namespace P;

public static class Probe
{
    public static long Plain(ref K.iphdr h)
    {
        long s = h.ihl;
        s += h.addrs.saddr;
        h.ttl = 5;
        return s;
    }

    public static long Viewed(byte[] d, TargetKernel k)
    {
        var v = new K.iphdr.View(d, k);
        long s = v.tot_len;
        if (v.Has_id) s += v.id;
        if (v.addrs.Exists("daddr")) s += v.addrs.daddr;
        s += (long)k.ValueOf(K.pid_type.PIDTYPE_TGID);
        if (k.EnumValueExists(K.pid_type.PIDTYPE_SID)) s++;
        return s;
    }
}
