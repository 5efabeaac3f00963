namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>
/// The scapy SMF (python3, scapy.contrib.pfcp), embedded here because the test project copies
/// no loose files to its output; <see cref="ScapySmf"/> writes it to a temporary file.
/// </summary>
public static class ScapySmfScript
{
    public const string Text = """"
#!/usr/bin/python3
# An SMF built on scapy.contrib.pfcp (an implementation independent of the gateway's codec).
# Reads one command per line on stdin, answers one JSON object per line on stdout:
#   associate | establish CP_SEID THRESHOLD | modify UP_SEID GNB_TEID GNB_IP
#   reports QUIET_S MAX_S | delete UP_SEID | heartbeat | quit
#   establish-bad-far CP_SEID FAR_ID (the uplink PDR names a FAR that is not created)
#   establish-quota CP_SEID QUOTA (the URR has a total Volume Quota, VOLQU, instead of a threshold)
#   grant UP_SEID QUOTA (Update URR 1 with a new total Volume Quota)
#   establish-csid CP_SEID CSID (with the SMF's FQ-CSID: our address, that CSID)
#   setdelete CSID (Session Set Deletion Request naming the SMF's set CSID)
# Requests the node sends (Heartbeat, Session Report) are answered by a receiver thread as
# they arrive, as an SMF does; "reports" returns what scapy decoded from them.
import json
import queue
import socket
import sys
import threading
import time

from scapy.all import raw, Raw
import scapy.contrib.pfcp as pfcp
from scapy.contrib.pfcp import (
    PFCP, PFCPAssociationSetupRequest, PFCPHeartbeatRequest, PFCPHeartbeatResponse,
    PFCPSessionEstablishmentRequest, PFCPSessionModificationRequest, PFCPSessionDeletionRequest,
    PFCPSessionReportRequest, PFCPSessionReportResponse,
    IE_ApplyAction, IE_Cause, IE_CreateFAR, IE_CreatePDR, IE_CreateQER, IE_CreateURR, IE_CreatedPDR,
    IE_DestinationInterface, IE_FAR_Id, IE_FSEID, IE_FTEID, IE_ForwardingParameters, IE_GateStatus,
    IE_MeasurementMethod, IE_NetworkInstance, IE_NodeId, IE_NotImplemented, IE_OuterHeaderCreation,
    IE_OuterHeaderRemoval, IE_PDI, IE_PDNType, IE_PDR_Id, IE_Precedence, IE_QER_Id, IE_QFI,
    IE_RecoveryTimeStamp, IE_ReportingTriggers, IE_SourceInterface, IE_UE_IP_Address,
    IE_URR_Id, IE_UpdateFAR, IE_UpdateForwardingParameters, IE_VolumeThreshold, IE_EnterpriseSpecific,
    IE_VolumeQuota, IE_UpdateURR, IE_FqCSID, PFCPSessionSetDeletionRequest,
)

NODE = (sys.argv[1], int(sys.argv[2]))
LOCAL = (sys.argv[3], int(sys.argv[4]))
NODE_ID = sys.argv[5]
NTP_OFFSET = 2208988800
RECOVERY = int(time.time()) + NTP_OFFSET

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(LOCAL)
sequence = 0
reports = []        # Session Report Requests the node sent, decoded by scapy
node_requests = []  # every request the node sent (type names)
heartbeats = []     # Heartbeat Requests the node sent, decoded by scapy


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def next_sequence():
    global sequence
    sequence += 1
    return sequence


def header(seid=None, seq=None):
    if seid is None:
        return PFCP(version=1, S=0, seq=seq)
    return PFCP(version=1, S=1, seid=seid, seq=seq)


def ies(pkt):
    return pkt.payload.IE_list or []


def walk(ie_list, path=""):
    """Every IE with its path, grouped IEs included."""
    for ie in ie_list or []:
        name = type(ie).__name__
        yield path + name, ie
        if hasattr(ie, "IE_list"):
            yield from walk(ie.IE_list, path + name + "/")


def issues_of(pkt, data):
    """What scapy could not decode: IEs it does not know, octets its model leaves over, re-encoding differences."""
    found = []
    for path, ie in walk(ies(pkt)):
        if isinstance(ie, (IE_NotImplemented, Raw)):
            found.append({"ie": path, "type": ie.ietype, "kind": "not-implemented"})
        extra = getattr(ie, "extra_data", b"")
        if extra:
            found.append({"ie": path, "type": ie.ietype, "kind": "extra-data", "hex": extra.hex()})
    if pkt.payload.payload and not isinstance(pkt.payload.payload, type(None)) and len(raw(pkt.payload.payload)) > 0:
        found.append({"kind": "trailing", "hex": raw(pkt.payload.payload).hex()})
    if raw(pkt) != data:
        found.append({"kind": "reencode-differs", "hex": raw(pkt).hex(), "original": data.hex()})
    return found


def first(ie_list, cls):
    for ie in ie_list or []:
        if isinstance(ie, cls):
            return ie
    return None


def all_of(ie_list, cls):
    return [ie for ie in ie_list or [] if isinstance(ie, cls)]


def up_features(ie):
    if ie is None:
        return None
    names = ["TREU", "HEEU", "PFDM", "FTUP", "TRST", "DLBD", "DDND", "BUCP",
             "spare", "PFDE", "FRRT", "TRACE", "QUOAC", "UDBC", "PDIU", "EMPU"]
    result = {n: int(getattr(ie, n) or 0) for n in names if n != "spare"}
    # Octets 7 and on are beyond scapy's model (Rel-15.6): UEIP is octet 7 bit 3.
    extra = ie.extra_data or b""
    result["octets"] = ie.length
    result["UEIP"] = int(len(extra) >= 1 and (extra[0] & 0x04) != 0)
    return result


def usage_report(ie):
    """A Usage Report (in a Session Report Request or a Session Deletion Response) as scapy reads it."""
    children = ie.IE_list or []
    trigger = first(children, pfcp.IE_UsageReportTrigger)
    volume = first(children, pfcp.IE_VolumeMeasurement)
    result = {
        "urr_id": first(children, pfcp.IE_URR_Id).id,
        "ur_seqn": first(children, pfcp.IE_UR_SEQN).number if first(children, pfcp.IE_UR_SEQN) is not None else None,
        "triggers": sorted(n for n in ["IMMER", "DROTH", "STOPT", "START", "QUHTI", "TIMTH", "VOLTH", "PERIO",
                                       "EVETH", "MACAR", "ENVCL", "MONIT", "TERMR", "LIUSA", "TIMQU", "VOLQU"]
                           if trigger is not None and getattr(trigger, n)),
    }
    if volume is not None:
        result["total"] = volume.total if volume.TOVOL else None
        result["uplink"] = volume.uplink if volume.ULVOL else None
        result["downlink"] = volume.downlink if volume.DLVOL else None
        # Packet counts (TONOP/ULNOP/DLNOP, Rel-15 CR) are beyond scapy 2.5's model: bits 4-6
        # of octet 5 are its "spare" and the counts land in extra_data. Decode them by hand.
        flags = volume.spare
        extra = volume.extra_data or b""
        at = 0
        for name, bit in (("total_packets", 0x01), ("uplink_packets", 0x02), ("downlink_packets", 0x04)):
            if flags & bit and len(extra) >= at + 8:
                result[name] = int.from_bytes(extra[at:at + 8], "big")
                at += 8
    duration = first(children, pfcp.IE_DurationMeasurement)
    result["duration"] = duration.duration if duration is not None else None
    start = first(children, pfcp.IE_StartTime)
    end = first(children, pfcp.IE_EndTime)
    result["start"] = start.timestamp if start is not None else None
    result["end"] = end.timestamp if end is not None else None
    return result


def answer_node_request(pkt, source):
    """The node asks something: a Heartbeat or a Session Report. Answer it as an SMF does."""
    body = pkt.payload
    node_requests.append(type(body).__name__)
    if isinstance(body, PFCPHeartbeatRequest):
        recovery = first(body.IE_list, IE_RecoveryTimeStamp)
        heartbeats.append({"seq": pkt.seq, "recovery": recovery.timestamp - NTP_OFFSET if recovery is not None else None,
                           "issues": issues_of(pkt, raw(pkt))})
        reply = header(seq=pkt.seq) / PFCPHeartbeatResponse(IE_list=[IE_RecoveryTimeStamp(timestamp=RECOVERY)])
        sock.sendto(raw(reply), source)
    elif isinstance(body, PFCPSessionReportRequest):
        data = raw(pkt)
        if any(r["seq"] == pkt.seq for r in reports):  # a retransmission: answer again, count once
            node_requests.pop()
            sock.sendto(raw(header(seid=sessions_by_cp.get(pkt.seid, 0), seq=pkt.seq) / PFCPSessionReportResponse(IE_list=[IE_Cause(cause=1)])), source)
            return
        report_type = first(body.IE_list, pfcp.IE_ReportType)
        reports.append({
            "seid": pkt.seid,
            "seq": pkt.seq,
            "types": [n for n in ("UPIR", "ERIR", "USAR", "DLDR") if report_type is not None and getattr(report_type, n)],
            "usage_reports": [usage_report(u) for u in all_of(body.IE_list, pfcp.IE_UsageReport_SRR)],
            "issues": issues_of(pkt, data),
            "at": time.time(),
        })
        up_seid = sessions_by_cp.get(pkt.seid, 0)
        reply = header(seid=up_seid, seq=pkt.seq) / PFCPSessionReportResponse(IE_list=[IE_Cause(cause=1)])
        sock.sendto(raw(reply), source)


def receive():
    """The SMF's receiver: answers the node's requests at once, hands responses to request()."""
    while True:
        try:
            data, source = sock.recvfrom(65535)
        except OSError:
            return
        pkt = PFCP(data)
        if pkt.message_type in (1, 56):  # Heartbeat Request, Session Report Request: the node asks
            with lock:
                answer_node_request(pkt, source)
        else:
            responses.put((pkt, data))


def request(message, seid=None, timeout=3.0):
    """Sends a request; returns (response packet, raw bytes)."""
    seq = next_sequence()
    pkt = header(seid, seq) / message
    sock.sendto(raw(pkt), NODE)
    deadline = time.time() + timeout
    while True:
        try:
            answer, data = responses.get(timeout=max(0.01, deadline - time.time()))
        except queue.Empty:
            raise TimeoutError("no response to sequence %d" % seq)
        if answer.seq == seq:
            return answer, data


sessions_by_cp = {}  # CP SEID -> UP SEID


def cause_of(pkt):
    c = first(ies(pkt), IE_Cause)
    return c.cause if c is not None else None


def common(pkt, data):
    return {"cause": cause_of(pkt), "seq": pkt.seq, "seid": pkt.seid if pkt.S else None,
            "message": type(pkt.payload).__name__, "issues": issues_of(pkt, data)}


def node_id_ie():
    return IE_NodeId(id_type=2, id=NODE_ID.encode())


def associate():
    pkt, data = request(PFCPAssociationSetupRequest(IE_list=[node_id_ie(), IE_RecoveryTimeStamp(timestamp=RECOVERY)]))
    node_id = first(ies(pkt), IE_NodeId)
    recovery = first(ies(pkt), IE_RecoveryTimeStamp)
    result = common(pkt, data)
    result.update({
        "node_id": node_id.ipv4 if node_id is not None and node_id.id_type == 0 else (node_id.id.decode() if node_id is not None else None),
        "recovery": recovery.timestamp - NTP_OFFSET if recovery is not None else None,
        "up_features": up_features(first(ies(pkt), pfcp.IE_UPFunctionFeatures)),
    })
    return result


def smf_fqcsid(csid):
    return IE_FqCSID(node_id_type=0, num_csids=1, ipv4=LOCAL[0], csids=[csid])


def fqcsid_json(ie):
    if ie is None:
        return None
    return {"node_id_type": ie.node_id_type, "ipv4": ie.ipv4 if ie.node_id_type == 0 else None, "csids": list(ie.csids)}


def establish(cp_seid, threshold, uplink_far=1, quota=None, csid=None):
    ue_choose = 0x02  # CHV4 is octet 5 bit 5: inside scapy 2.5's 5-bit "spare" (it models V6, V4, S/D only)
    uplink = IE_CreatePDR(IE_list=[
        IE_PDR_Id(id=1),
        IE_Precedence(precedence=200),
        IE_PDI(IE_list=[
            IE_SourceInterface(interface=0),  # Access
            IE_FTEID(CHID=1, CH=1, V4=1, choose_id=5),
            IE_NetworkInstance(instance=b"internet"),
            IE_UE_IP_Address(spare=ue_choose, SD=0, V4=0, V6=0),
            IE_QFI(QFI=9),
        ]),
        IE_OuterHeaderRemoval(header=0),  # GTP-U/UDP/IPv4
        IE_FAR_Id(id=uplink_far),
        IE_URR_Id(id=1),
        IE_QER_Id(id=1),
    ])
    downlink = IE_CreatePDR(IE_list=[
        IE_PDR_Id(id=2),
        IE_Precedence(precedence=200),
        IE_PDI(IE_list=[
            IE_SourceInterface(interface=1),  # Core
            IE_NetworkInstance(instance=b"internet"),
            IE_UE_IP_Address(spare=ue_choose, SD=1, V4=0, V6=0),
        ]),
        IE_FAR_Id(id=2),
        IE_URR_Id(id=1),
        IE_QER_Id(id=1),
    ])
    far_up = IE_CreateFAR(IE_list=[
        IE_FAR_Id(id=1),
        IE_ApplyAction(FORW=1),
        IE_ForwardingParameters(IE_list=[IE_DestinationInterface(interface=1), IE_NetworkInstance(instance=b"internet")]),
    ])
    far_down = IE_CreateFAR(IE_list=[IE_FAR_Id(id=2), IE_ApplyAction(BUFF=1, NOCP=1)])
    urr = IE_CreateURR(IE_list=[
        IE_URR_Id(id=1),
        IE_MeasurementMethod(VOLUM=1),
        IE_ReportingTriggers(volume_threshold=1),
        IE_VolumeThreshold(TOVOL=1, total=threshold),
    ]) if quota is None else IE_CreateURR(IE_list=[
        IE_URR_Id(id=1),
        IE_MeasurementMethod(VOLUM=1),
        IE_ReportingTriggers(volume_quota=1),
        IE_VolumeQuota(TOVOL=1, total=quota),
    ])
    qer = IE_CreateQER(IE_list=[IE_QER_Id(id=1), IE_GateStatus(ul="OPEN", dl="OPEN"), IE_QFI(QFI=9)])
    message = PFCPSessionEstablishmentRequest(IE_list=[
        node_id_ie(),
        IE_FSEID(v4=1, seid=cp_seid, ipv4=LOCAL[0]),
        uplink, downlink, far_up, far_down, urr, qer,
        IE_PDNType(pdn_type=1),
    ] + ([smf_fqcsid(csid)] if csid is not None else []))
    pkt, data = request(message, seid=0)
    result = common(pkt, data)
    fseid = first(ies(pkt), IE_FSEID)
    if fseid is not None:
        result["up_seid"] = fseid.seid
        result["up_ipv4"] = fseid.ipv4 if fseid.v4 else None
        sessions_by_cp[cp_seid] = fseid.seid
    created = []
    for c in all_of(ies(pkt), IE_CreatedPDR):
        pdr = first(c.IE_list, IE_PDR_Id)
        fteid = first(c.IE_list, IE_FTEID)
        ue = first(c.IE_list, IE_UE_IP_Address)
        created.append({
            "pdr_id": pdr.id,
            "teid": fteid.TEID if fteid is not None else None,
            "fteid_ipv4": fteid.ipv4 if fteid is not None and fteid.V4 else None,
            "ue_ipv4": ue.ipv4 if ue is not None and ue.V4 else None,
            "ue_sd": ue.SD if ue is not None else None,
        })
    result["created_pdrs"] = created
    failed = first(ies(pkt), pfcp.IE_FailedRuleId)
    result["failed_rule"] = None if failed is None else {"type": failed.type, "pdr_id": failed.pdr_id if failed.type == 0 else None}
    offending = first(ies(pkt), pfcp.IE_OffendingIE)
    result["offending_ie"] = None if offending is None else offending.type
    result["up_fqcsid"] = fqcsid_json(first(ies(pkt), IE_FqCSID))
    return result


def set_delete(csid):
    pkt, data = request(PFCPSessionSetDeletionRequest(IE_list=[node_id_ie(), smf_fqcsid(csid)]))
    result = common(pkt, data)
    node_id = first(ies(pkt), IE_NodeId)
    result["node_id"] = node_id.ipv4 if node_id is not None and node_id.id_type == 0 else None
    return result


def modify(up_seid, gnb_teid, gnb_ip):
    message = PFCPSessionModificationRequest(IE_list=[
        IE_UpdateFAR(IE_list=[
            IE_FAR_Id(id=2),
            IE_ApplyAction(FORW=1),
            IE_UpdateForwardingParameters(IE_list=[
                IE_DestinationInterface(interface=0),  # Access
                IE_NetworkInstance(instance=b"internet"),
                IE_OuterHeaderCreation(GTPUUDPIPV4=1, TEID=gnb_teid, ipv4=gnb_ip),
            ]),
        ]),
    ])
    pkt, data = request(message, seid=up_seid)
    return common(pkt, data)


def grant(up_seid, quota):
    message = PFCPSessionModificationRequest(IE_list=[
        IE_UpdateURR(IE_list=[IE_URR_Id(id=1), IE_VolumeQuota(TOVOL=1, total=quota)]),
    ])
    pkt, data = request(message, seid=up_seid)
    return common(pkt, data)


def delete(up_seid):
    pkt, data = request(PFCPSessionDeletionRequest(IE_list=[]), seid=up_seid)
    result = common(pkt, data)
    result["usage_reports"] = [usage_report(u) for u in all_of(ies(pkt), pfcp.IE_UsageReport_SDR)]
    return result


def heartbeat():
    pkt, data = request(PFCPHeartbeatRequest(IE_list=[IE_RecoveryTimeStamp(timestamp=RECOVERY)]))
    recovery = first(ies(pkt), IE_RecoveryTimeStamp)
    result = common(pkt, data)
    result["recovery"] = recovery.timestamp - NTP_OFFSET if recovery is not None else None
    return result


def wait_reports(quiet, limit):
    """The Session Reports answered so far, once none came for QUIET seconds (after at least one) or LIMIT passed."""
    deadline = time.time() + limit
    while time.time() < deadline:
        with lock:
            last = reports[-1]["at"] if reports else None
        if last is not None and time.time() - last >= quiet:
            break
        time.sleep(0.05)
    with lock:
        return {"reports": reports[:], "heartbeats": heartbeats[:], "node_requests": node_requests[:]}


lock = threading.Lock()
responses = queue.Queue()
threading.Thread(target=receive, daemon=True).start()
out({"ready": True})
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    try:
        command = words[0]
        if command == "associate":
            out(associate())
        elif command == "establish":
            out(establish(int(words[1]), int(words[2])))
        elif command == "establish-bad-far":
            out(establish(int(words[1]), 1000, uplink_far=int(words[2])))
        elif command == "establish-quota":
            out(establish(int(words[1]), 0, quota=int(words[2])))
        elif command == "establish-csid":
            out(establish(int(words[1]), 1000, csid=int(words[2])))
        elif command == "setdelete":
            out(set_delete(int(words[1])))
        elif command == "grant":
            out(grant(int(words[1]), int(words[2])))
        elif command == "modify":
            out(modify(int(words[1]), int(words[2]), words[3]))
        elif command == "reports":
            out(wait_reports(float(words[1]), float(words[2])))
        elif command == "delete":
            out(delete(int(words[1])))
        elif command == "heartbeat":
            out(heartbeat())
        elif command == "quit":
            out({"bye": True})
            break
        else:
            out({"error": "unknown command " + command})
    except Exception as e:  # report, keep serving: the C# side decides
        out({"error": "%s: %s" % (type(e).__name__, e)})
"""";
}
