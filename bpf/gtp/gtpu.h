/* SPDX-License-Identifier: Apache-2.0 */
/* GTP-U (3GPP TS 29.281) and PDU Session Container (TS 38.415) wire constants. */
#ifndef EDGE5G_GTPU_H
#define EDGE5G_GTPU_H

#include <linux/types.h>

#define GTPU_PORT 2152

/* Mandatory header. */
struct gtp1_hdr {
	__u8 flags; /* version(3) PT(1) spare(1) E(1) S(1) PN(1) */
	__u8 type;
	__be16 length; /* octets after the mandatory 8 */
	__be32 teid;
};

/* Present when any of E, S, PN is set. */
struct gtp1_opt {
	__be16 seq;
	__u8 npdu;
	__u8 next_ext;
};

#define GTP1_VERSION_MASK 0xe0
#define GTP1_VERSION_1 0x20
#define GTP1_FLAG_PT 0x10
#define GTP1_FLAG_E 0x04
#define GTP1_FLAG_S 0x02
#define GTP1_FLAG_PN 0x01
#define GTP1_FLAGS_OPT (GTP1_FLAG_E | GTP1_FLAG_S | GTP1_FLAG_PN)

#define GTP_ECHO_REQUEST 1
#define GTP_ECHO_RESPONSE 2
#define GTP_ERROR_INDICATION 26
#define GTP_SUPPORTED_EXT_NOTIFICATION 31
#define GTP_END_MARKER 254
#define GTP_TPDU 255

/* Extension header types we know (others are skipped unless comprehension is required). */
#define GTP_EXT_NONE 0x00
#define GTP_EXT_SERVICE_CLASS 0x20
#define GTP_EXT_UDP_PORT 0x40
#define GTP_EXT_RAN_CONTAINER 0x81
#define GTP_EXT_LONG_PDCP_PDU 0x82
#define GTP_EXT_XW_RAN_CONTAINER 0x83
#define GTP_EXT_NR_RAN_CONTAINER 0x84
#define GTP_EXT_PDU_SESSION_CONTAINER 0x85
#define GTP_EXT_PDCP_PDU_NUMBER 0xc0
/* Bit 8 of the type: the receiver must understand it (TS 29.281 5.2.1). */
#define GTP_EXT_COMPREHENSION_REQUIRED 0x80

/* Longest extension chain walked before the packet counts as malformed. */
#define GTP_MAX_EXT_HEADERS 4

/* PDU Session Container PDU types. */
#define PSC_DL_PDU_SESSION_INFORMATION 0
#define PSC_UL_PDU_SESSION_INFORMATION 1

/* Information elements of Echo Response and Error Indication. */
#define GTP_IE_RECOVERY 14
#define GTP_IE_TEID_DATA_I 16
#define GTP_IE_PEER_ADDRESS 133

/* Header we push: mandatory + optional + one 4-octet PDU Session Container. */
struct gtp1_psc_hdr {
	struct gtp1_hdr h;
	struct gtp1_opt o;
	__u8 psc_len;   /* 1: four octets */
	__u8 psc_type;  /* PDU type << 4 */
	__u8 psc_qfi;   /* PPP/RQI (DL) or flags (UL), QFI in the low 6 bits */
	__u8 psc_next;  /* no more extension headers */
};

#endif /* EDGE5G_GTPU_H */
