"""Code points of the Mobility Header family, defined once (protocol.md §2, §3).

Every table is an ``IntEnum`` with a ``label`` (the name a user reads); unknown
numbers stay plain ``int`` and :func:`name_of` prints them as ``unknown (N)``.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag, StrEnum


class Labeled(IntEnum):
    """An IntEnum whose members carry a human label next to the symbolic name."""

    def __new__(cls, value: int, label: str = "") -> Labeled:
        obj = int.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    label: str


def name_of(table: type[IntEnum], value: int) -> str:
    """The label of ``value`` in ``table``, or ``unknown (value)``."""
    try:
        member = table(value)
    except ValueError:
        return f"unknown ({value})"
    return getattr(member, "label", "") or member.name


def lookup(table: type[IntEnum], value: int) -> int:
    """``table(value)`` when known, else the plain int (never raises)."""
    return table._value2member_map_.get(value, value)  # type: ignore[return-value]


class MHType(Labeled):
    BRR = 0, "Binding Refresh Request"
    HOTI = 1, "Home Test Init"
    COTI = 2, "Care-of Test Init"
    HOT = 3, "Home Test"
    COT = 4, "Care-of Test"
    BU = 5, "Binding Update"
    BA = 6, "Binding Acknowledgement"
    BE = 7, "Binding Error"
    FBU = 8, "Fast Binding Update"
    FBACK = 9, "Fast Binding Acknowledgment"
    FNA = 10, "Fast Neighbor Advertisement"
    EXPERIMENTAL = 11, "Experimental Mobility Header"
    HAS = 12, "Home Agent Switch"
    HEARTBEAT = 13, "Heartbeat"
    HI = 14, "Handover Initiate"
    HACK = 15, "Handover Acknowledge"
    BR = 16, "Binding Revocation"
    LRI = 17, "Localized Routing Initiation"
    LRA = 18, "Localized Routing Acknowledgment"
    UPDATE_NOTIFICATION = 19, "Update Notification"
    UPDATE_NOTIFICATION_ACK = 20, "Update Notification Acknowledgement"
    FMB = 21, "Flow Binding"
    FMBA = 22, "Flow Binding Acknowledgement"
    SUBSCRIPTION_QUERY = 23, "Subscription Query"


class MessageKind(StrEnum):
    """A mobility message's short name, as every output shows it (``dissect``'s kind, the
    signals, ``--type``, the ladders); the value is the string itself.  An MH type that
    is not decoded is ``MH-<type>``, a plain string."""

    PBU = "PBU"         # Binding Update with the P flag (RFC 5213)
    PBA = "PBA"
    BU = "BU"           # without it (RFC 6275)
    BA = "BA"
    BRI = "BRI"         # Binding Revocation Indication (RFC 5846)
    BRA = "BRA"
    HB_REQ = "HB-Req"   # Heartbeat (RFC 5847)
    HB_RESP = "HB-Resp"
    BE = "BE"           # Binding Error
    BR = "BR"           # a Binding Revocation of a reserved type


#: Binding Updates and their acknowledgements, with or without the P flag.
UPDATE_KINDS = frozenset({MessageKind.PBU, MessageKind.BU})
ACK_KINDS = frozenset({MessageKind.PBA, MessageKind.BA})
HEARTBEAT_KINDS = frozenset({MessageKind.HB_REQ, MessageKind.HB_RESP})
#: The messages that answer another one.
REPLY_KINDS = ACK_KINDS | {MessageKind.BRA, MessageKind.HB_RESP}
#: The messages a sender retransmits until answered.
REQUEST_KINDS = UPDATE_KINDS | {MessageKind.BRI}


class BUFlag(IntFlag):
    """Flags of the 16-bit word at MH offset 8 of a Binding Update (protocol.md §2.1)."""

    A = 0x8000
    H = 0x4000
    L = 0x2000
    K = 0x1000
    M = 0x0800
    R = 0x0400
    P = 0x0200
    F = 0x0100
    T = 0x0080
    B = 0x0040
    S = 0x0020
    D = 0x0010


class BAFlag(IntFlag):
    """Flags of the byte at MH offset 7 of a Binding Acknowledgement (protocol.md §2.2)."""

    K = 0x80
    R = 0x40
    P = 0x20
    T = 0x10
    B = 0x08
    S = 0x04
    D = 0x02


class HBFlag(IntFlag):
    """Heartbeat flags (RFC 5847): U unsolicited, R response."""

    U = 0x0002
    R = 0x0001


class BRFlag(IntFlag):
    """Binding Revocation flags (RFC 5846): proxy, IPv4 HoA only, global."""

    P = 0x8000
    V = 0x4000
    G = 0x2000


#: The bits of a Binding Revocation's flags word that carry a flag (the rest is reserved).
BR_FLAG_BITS = int(BRFlag.P | BRFlag.V | BRFlag.G)


def flag_names(flags: IntFlag, table: type[IntFlag]) -> str:
    """``"A P"`` style: the set flags in bit order, most significant first."""
    return " ".join(m.name or "" for m in sorted(table, key=int, reverse=True) if flags & m)


class BAStatus(Labeled):
    ACCEPTED = 0, "Binding Update accepted"
    ACCEPTED_PREFIX_DISCOVERY = 1, "Accepted but prefix discovery necessary"
    GRE_KEY_OPTION_NOT_REQUIRED = 2, "GRE_KEY_OPTION_NOT_REQUIRED"
    GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED = 3, "GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED"
    MCOA_NOTCOMPLETE = 4, "MCOA NOTCOMPLETE"
    MCOA_RETURNHOME_WO_NDP = 5, "MCOA RETURNHOME WO/NDP"
    PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH = 6, "PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH"
    REASON_UNSPECIFIED = 128, "Reason unspecified"
    ADMINISTRATIVELY_PROHIBITED = 129, "Administratively prohibited"
    INSUFFICIENT_RESOURCES = 130, "Insufficient resources"
    HOME_REGISTRATION_NOT_SUPPORTED = 131, "Home registration not supported"
    NOT_HOME_SUBNET = 132, "Not home subnet"
    NOT_HOME_AGENT = 133, "Not home agent for this mobile node"
    DAD_FAILED = 134, "Duplicate Address Detection failed"
    SEQUENCE_OUT_OF_WINDOW = 135, "Sequence number out of window"
    EXPIRED_HOME_NONCE_INDEX = 136, "Expired home nonce index"
    EXPIRED_COA_NONCE_INDEX = 137, "Expired care-of nonce index"
    EXPIRED_NONCES = 138, "Expired nonces"
    REGISTRATION_TYPE_CHANGE_DISALLOWED = 139, "Registration type change disallowed"
    MR_OPERATION_NOT_PERMITTED = 140, "Mobile Router Operation not permitted"
    INVALID_PREFIX = 141, "Invalid Prefix"
    NOT_AUTHORIZED_FOR_PREFIX = 142, "Not Authorized for Prefix"
    FORWARDING_SETUP_FAILED = 143, "Forwarding Setup failed"
    MIPV6_ID_MISMATCH = 144, "MIPV6-ID-MISMATCH"
    MIPV6_MESG_ID_REQD = 145, "MIPV6-MESG-ID-REQD"
    MIPV6_AUTH_FAIL = 146, "MIPV6-AUTH-FAIL"
    PERMANENT_HOME_KEYGEN_TOKEN_UNAVAILABLE = 147, "Permanent home keygen token unavailable"
    CGA_AND_SIGNATURE_VERIFICATION_FAILED = 148, "CGA and signature verification failed"
    PERMANENT_HOME_KEYGEN_TOKEN_EXISTS = 149, "Permanent home keygen token exists"
    NON_NULL_HOME_NONCE_INDEX_EXPECTED = 150, "Non-null home nonce index expected"
    SERVICE_AUTHORIZATION_FAILED = 151, "SERVICE_AUTHORIZATION_FAILED"
    PROXY_REG_NOT_ENABLED = 152, "PROXY_REG_NOT_ENABLED"
    NOT_LMA_FOR_THIS_MOBILE_NODE = 153, "NOT_LMA_FOR_THIS_MOBILE_NODE"
    MAG_NOT_AUTHORIZED_FOR_PROXY_REG = 154, "MAG_NOT_AUTHORIZED_FOR_PROXY_REG"
    NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX = 155, "NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX"
    TIMESTAMP_MISMATCH = 156, "TIMESTAMP_MISMATCH"
    TIMESTAMP_LOWER_THAN_PREV_ACCEPTED = 157, "TIMESTAMP_LOWER_THAN_PREV_ACCEPTED"
    MISSING_HOME_NETWORK_PREFIX_OPTION = 158, "MISSING_HOME_NETWORK_PREFIX_OPTION"
    BCE_PBU_PREFIX_SET_DO_NOT_MATCH = 159, "BCE_PBU_PREFIX_SET_DO_NOT_MATCH"
    MISSING_MN_IDENTIFIER_OPTION = 160, "MISSING_MN_IDENTIFIER_OPTION"
    MISSING_HANDOFF_INDICATOR_OPTION = 161, "MISSING_HANDOFF_INDICATOR_OPTION"
    MISSING_ACCESS_TECH_TYPE_OPTION = 162, "MISSING_ACCESS_TECH_TYPE_OPTION"
    GRE_KEY_OPTION_REQUIRED = 163, "GRE_KEY_OPTION_REQUIRED"
    MCOA_MALFORMED = 164, "MCOA MALFORMED"
    MCOA_NON_MCOA_BINDING_EXISTS = 165, "MCOA NON-MCOA BINDING EXISTS"
    MCOA_PROHIBITED = 166, "MCOA PROHIBITED"
    MCOA_UNKNOWN_COA = 167, "MCOA UNKNOWN COA"
    MCOA_BULK_REGISTRATION_PROHIBITED = 168, "MCOA BULK REGISTRATION PROHIBITED"
    MCOA_SIMULTANEOUS_HOME_AND_FOREIGN_PROHIBITED = (
        169, "MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED")
    NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE = 170, "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE"
    NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS = 171, "NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS"
    NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE = 172, "NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE"
    MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED = (
        173, "MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED")
    INVALID_CARE_OF_ADDRESS = 174, "Invalid Care-of Address"
    INVALID_MOBILE_NODE_GROUP_IDENTIFIER = 175, "INVALID_MOBILE_NODE_GROUP_IDENTIFIER"
    REINIT_SA_WITH_HAC = 176, "REINIT_SA_WITH_HAC"
    NOT_AUTHORIZED_FOR_DELEGATED_MNP = 177, "NOT_AUTHORIZED_FOR_DELEGATED_MNP"
    REQUESTED_DMNP_IN_USE = 178, "REQUESTED_DMNP_IN_USE"
    CANNOT_MEET_QOS_SERVICE_REQUEST = 179, "CANNOT_MEET_QOS_SERVICE_REQUEST"
    CANNOT_SUPPORT_MULTIPATH_BINDING = 180, "CANNOT_SUPPORT_MULTIPATH_BINDING"


#: The first status value that refuses, in every status field of the Mobility Header family.
REJECTED_FROM = 128


def status_accepted(status: int) -> bool:
    """Status values below 128 accept: BA (RFC 6275 §6.1.8), BRA (RFC 5846 §6.2), IPv4 HoA
    Reply (RFC 5844 §3.3.2) and IPv4 Address Acknowledgement (RFC 5555 §3.2.1)."""
    return status < REJECTED_FROM


def ba_status_name(status: int, proxy: bool) -> str:
    """A BA status as a user reads it; status 0 of a PBA (P flag) is "Proxy Binding
    Update accepted" (RFC 5213 §8.9)."""
    if status == BAStatus.ACCEPTED and proxy:
        return "Proxy Binding Update accepted"
    return name_of(BAStatus, status)


class BEStatus(Labeled):
    UNKNOWN_BINDING_FOR_HOA = 1, "Unknown binding for Home Address destination option"
    UNRECOGNIZED_MH_TYPE = 2, "Unrecognized MH Type value"


class HoAReplyStatus(Labeled):
    """IPv4 Home Address Reply status (RFC 5844 §3.3.2); tshark 4.0 mislabels 128-132."""

    SUCCESS = 0, "Success"
    FAILURE_REASON_UNSPECIFIED = 128, "Failure, reason unspecified"
    ADMINISTRATIVELY_PROHIBITED = 129, "Administratively prohibited"
    INCORRECT_IPV4_HOME_ADDRESS = 130, "Incorrect IPv4 home address"
    INVALID_IPV4_ADDRESS = 131, "Invalid IPv4 address"
    DYNAMIC_ASSIGNMENT_NOT_AVAILABLE = 132, "Dynamic IPv4 home address assignment not available"


class IPv4AckStatus(Labeled):
    """IPv4 Address Acknowledgement status (RFC 5555 §3.2.1)."""

    SUCCESS = 0, "Success"
    FAILURE_REASON_UNSPECIFIED = 128, "Failure, reason unspecified"
    ADMINISTRATIVELY_PROHIBITED = 129, "Administratively prohibited"
    INCORRECT_IPV4_HOME_ADDRESS = 130, "Incorrect IPv4 home address"
    INVALID_IPV4_ADDRESS = 131, "Invalid IPv4 address"
    DYNAMIC_ASSIGNMENT_NOT_AVAILABLE = 132, "Dynamic IPv4 home address assignment not available"
    PREFIX_ALLOCATION_UNAUTHORIZED = 133, "Prefix allocation unauthorized"


class HandoffIndicator(Labeled):
    RESERVED = 0, "Reserved"
    NEW_INTERFACE = 1, "Attachment over a new interface"
    INTER_INTERFACE = 2, "Handoff between two different interfaces of the mobile node"
    INTER_MAG = 3, "Handoff between mobile access gateways for the same interface"
    UNKNOWN = 4, "Handoff state unknown"
    NOT_CHANGED = 5, "Handoff state not changed (Re-registration)"
    NEW_INTERFACE_SHARED = 6, "Attachment over a new interface sharing prefixes"


# A few words for each Handoff Indicator, where a one-line label has no room (ladders).
HI_SHORT: dict[int, str] = {0: "reserved", 1: "new interface", 2: "inter-interface",
                            3: "inter-MAG handoff", 4: "handoff unknown",
                            5: "re-registration", 6: "new interface, shared"}


class AccessTechnology(Labeled):
    RESERVED = 0, "Reserved"
    VIRTUAL = 1, "Virtual"
    PPP = 2, "PPP"
    IEEE_802_3 = 3, "IEEE 802.3"
    IEEE_802_11 = 4, "IEEE 802.11a/b/g"
    IEEE_802_16E = 5, "IEEE 802.16e"
    GERAN = 6, "3GPP GERAN"
    UTRAN = 7, "3GPP UTRAN"
    EUTRAN = 8, "3GPP E-UTRAN"
    EHRPD = 9, "3GPP2 eHRPD"
    HRPD = 10, "3GPP2 HRPD"
    ONE_X_RTT = 11, "3GPP2 1xRTT"
    UMB = 12, "3GPP2 UMB"
    NB_IOT = 13, "3GPP NB-IoT"


class MNIdSubtype(Labeled):
    NAI = 1, "NAI"


class BRType(Labeled):
    RESERVED = 0, "Reserved"
    BRI = 1, "Binding Revocation Indication"
    BRA = 2, "Binding Revocation Acknowledgement"


class RevocationTrigger(Labeled):
    UNSPECIFIED = 0, "Unspecified"
    ADMINISTRATIVE = 1, "Administrative Reason"
    INTER_MAG_SAME_ACCESS = 2, "Inter-MAG Handover - same Access Type"
    INTER_MAG_DIFFERENT_ACCESS = 3, "Inter-MAG Handover - different Access Type"
    INTER_MAG_UNKNOWN = 4, "Inter-MAG Handover - Unknown"
    USER_INITIATED = 5, "User-Initiated Session(s) Termination"
    ACCESS_NETWORK = 6, "Access Network Session(s) Termination"
    OUT_OF_SYNC = 7, "Possible Out-of-Sync BCE State"
    PER_PEER_POLICY = 128, "Per-Peer Policy"
    LOCAL_POLICY = 129, "Revoking Mobility Node Local Policy"


class BRAStatus(Labeled):
    SUCCESS = 0, "success"
    PARTIAL_SUCCESS = 1, "partial success"
    BINDING_DOES_NOT_EXIST = 128, "Binding Does NOT Exist"
    IPV4_HOA_OPTION_REQUIRED = 129, "IPv4 Home Address Option Required"
    GLOBAL_REVOCATION_NOT_AUTHORIZED = 130, "Global Revocation NOT Authorized"
    MN_IDENTITY_REQUIRED = 131, "Revoked Mobile Nodes Identity Required"
    MN_ATTACHED = 132, "Revocation Failed - MN is Attached"
    TRIGGER_NOT_SUPPORTED = 133, "Revocation Trigger NOT Supported"
    FUNCTION_NOT_SUPPORTED = 134, "Revocation Function NOT Supported"
    PROXY_REVOCATION_NOT_SUPPORTED = 135, "Proxy Binding Revocation NOT Supported"


class OptionType(Labeled):
    """Mobility option types (IANA; protocol.md §3) with their RFC names."""

    PAD1 = 0, "Pad1"
    PADN = 1, "PadN"
    BINDING_REFRESH_ADVICE = 2, "Binding Refresh Advice"
    ALTERNATE_COA = 3, "Alternate Care-of Address"
    NONCE_INDICES = 4, "Nonce Indices"
    BINDING_AUTH_DATA = 5, "Binding Authorization Data"
    MOBILE_NETWORK_PREFIX = 6, "Mobile Network Prefix"
    LINK_LAYER_ADDRESS = 7, "Link-Layer Address"
    MN_IDENTIFIER = 8, "Mobile Node Identifier"
    VENDOR_SPECIFIC = 19, "Vendor Specific Mobility"
    SERVICE_SELECTION = 20, "Service Selection"
    HOME_NETWORK_PREFIX = 22, "Home Network Prefix"
    HANDOFF_INDICATOR = 23, "Handoff Indicator"
    ACCESS_TECHNOLOGY_TYPE = 24, "Access Technology Type"
    MN_LINK_LAYER_ID = 25, "Mobile Node Link-layer Identifier"
    LINK_LOCAL_ADDRESS = 26, "Link-local Address"
    TIMESTAMP = 27, "Timestamp"
    RESTART_COUNTER = 28, "Restart Counter"
    IPV4_HOME_ADDRESS = 29, "IPv4 Home Address"
    IPV4_ADDRESS_ACK = 30, "IPv4 Address Acknowledgement"
    NAT_DETECTION = 31, "NAT Detection"
    IPV4_COA = 32, "IPv4 Care-of Address"
    GRE_KEY = 33, "GRE Key"
    BINDING_IDENTIFIER = 35, "Binding Identifier"
    IPV4_HOA_REQUEST = 36, "IPv4 Home Address Request"
    IPV4_HOA_REPLY = 37, "IPv4 Home Address Reply"
    IPV4_DEFAULT_ROUTER = 38, "IPv4 Default-Router Address"
    IPV4_DHCP_SUPPORT_MODE = 39, "IPv4 DHCP Support Mode"
    LMA_ADDRESS = 41, "LMA Address"


# Alignment requirement "xn+y" of each option type that has one (protocol.md §3).
ALIGNMENT: dict[int, tuple[int, int]] = {
    OptionType.BINDING_REFRESH_ADVICE: (2, 0),
    OptionType.ALTERNATE_COA: (8, 6),
    OptionType.NONCE_INDICES: (2, 0),
    OptionType.BINDING_AUTH_DATA: (8, 2),
    OptionType.HOME_NETWORK_PREFIX: (8, 4),
    OptionType.LINK_LOCAL_ADDRESS: (8, 6),
    OptionType.TIMESTAMP: (8, 2),
    OptionType.RESTART_COUNTER: (4, 2),
    OptionType.IPV4_HOME_ADDRESS: (4, 0),
    OptionType.IPV4_ADDRESS_ACK: (4, 0),
    OptionType.NAT_DETECTION: (4, 0),
    OptionType.IPV4_COA: (4, 0),
    OptionType.GRE_KEY: (4, 0),
    OptionType.BINDING_IDENTIFIER: (2, 0),
    OptionType.IPV4_HOA_REQUEST: (4, 0),
    OptionType.IPV4_HOA_REPLY: (4, 0),
    OptionType.IPV4_DEFAULT_ROUTER: (4, 0),
    OptionType.LMA_ADDRESS: (4, 0),
    OptionType.VENDOR_SPECIFIC: (4, 2),
}

# UDP port of PMIPv6 signaling over IPv4 (RFC 5844 §4.1, IANA pmip6-cntl).
PMIP6_CNTL_PORT = 5436
