"""DHCPv4 code points, defined once (RFC 2131, RFC 2132, RFC 3046 and the IANA registries).

Decoders store a member of these enums when the number is known and the plain ``int``
otherwise, so any value read off the wire can be represented.  Option and sub-option codes
have a ``label`` (the human name from the ``*_NAMES`` tables, which also name codes that
have no enum member); message types and ops read well by their ``name``.
"""

from __future__ import annotations

from enum import IntEnum


class DhcpOp(IntEnum):
    """BOOTP ``op`` field (RFC 951, RFC 2131 §2)."""

    BOOTREQUEST = 1
    BOOTREPLY = 2


class DhcpMessageType(IntEnum):
    """DHCP Message Type, option 53 (IANA "Message Type 53 Values")."""

    DISCOVER = 1  # RFC 2132
    OFFER = 2
    REQUEST = 3
    DECLINE = 4
    ACK = 5
    NAK = 6
    RELEASE = 7
    INFORM = 8
    FORCERENEW = 9  # RFC 3203
    LEASEQUERY = 10  # RFC 4388
    LEASEUNASSIGNED = 11
    LEASEUNKNOWN = 12
    LEASEACTIVE = 13
    BULKLEASEQUERY = 14  # RFC 6926
    LEASEQUERYDONE = 15
    ACTIVELEASEQUERY = 16  # RFC 7724
    LEASEQUERYSTATUS = 17
    TLS = 18


class DhcpOptionCode(IntEnum):
    """The DHCP/BOOTP option codes pmipview knows by name (RFC 2132 and later)."""

    PAD = 0
    SUBNET_MASK = 1
    ROUTER = 3
    DNS = 6
    HOSTNAME = 12
    DOMAIN_NAME = 15
    MTU = 26
    BROADCAST_ADDRESS = 28
    NTP_SERVERS = 42
    VENDOR_SPECIFIC = 43
    REQUESTED_IP = 50
    LEASE_TIME = 51
    OVERLOAD = 52
    MESSAGE_TYPE = 53
    SERVER_ID = 54
    PARAM_REQUEST_LIST = 55
    MESSAGE = 56
    MAX_MESSAGE_SIZE = 57
    RENEWAL_TIME = 58
    REBINDING_TIME = 59
    VENDOR_CLASS_ID = 60
    CLIENT_ID = 61
    RAPID_COMMIT = 80
    CLIENT_FQDN = 81
    RELAY_AGENT_INFO = 82
    SUBNET_SELECTION = 118
    DOMAIN_SEARCH = 119
    CLASSLESS_STATIC_ROUTE = 121
    END = 255

    @property
    def label(self) -> str:
        """The human name, e.g. ``"Server Identifier"``."""
        return DHCP_OPTION_NAMES.get(self.value, self.name)


#: Human-readable option names (RFC 2132 wording, as Wireshark shows them).
DHCP_OPTION_NAMES: dict[int, str] = {
    0: "Pad",
    1: "Subnet Mask",
    2: "Time Offset",
    3: "Router",
    4: "Time Server",
    5: "Name Server",
    6: "Domain Name Server",
    7: "Log Server",
    12: "Host Name",
    13: "Boot File Size",
    15: "Domain Name",
    17: "Root Path",
    26: "Interface MTU",
    28: "Broadcast Address",
    33: "Static Route",
    42: "Network Time Protocol Servers",
    43: "Vendor-Specific Information",
    44: "NetBIOS over TCP/IP Name Server",
    46: "NetBIOS over TCP/IP Node Type",
    47: "NetBIOS over TCP/IP Scope",
    50: "Requested IP Address",
    51: "IP Address Lease Time",
    52: "Option Overload",
    53: "DHCP Message Type",
    54: "Server Identifier",
    55: "Parameter Request List",
    56: "Message",
    57: "Maximum DHCP Message Size",
    58: "Renewal Time Value",
    59: "Rebinding Time Value",
    60: "Vendor Class Identifier",
    61: "Client Identifier",
    66: "TFTP Server Name",
    67: "Bootfile Name",
    80: "Rapid Commit",
    81: "Client Fully Qualified Domain Name",
    82: "Relay Agent Information",
    116: "DHCP Auto-Configuration",
    118: "Subnet Selection",
    119: "Domain Search",
    121: "Classless Static Route",
    255: "End",
}


class RelayAgentSubOptionCode(IntEnum):
    """Sub-options of option 82, Relay Agent Information (IANA "DHCP Relay Agent Sub-Option
    Codes")."""

    CIRCUIT_ID = 1  # RFC 3046
    REMOTE_ID = 2  # RFC 3046; RFC 5844 puts the LMA-assigned IPv4 HoA here
    LINK_SELECTION = 5  # RFC 3527
    SUBSCRIBER_ID = 6  # RFC 3993
    SERVER_ID_OVERRIDE = 11  # RFC 5107
    RELAY_AGENT_ID = 12  # RFC 6925

    @property
    def label(self) -> str:
        """The human name, e.g. ``"Agent Remote ID"``."""
        return RELAY_AGENT_SUBOPTION_NAMES.get(self.value, self.name)


#: Human-readable option-82 sub-option names.
RELAY_AGENT_SUBOPTION_NAMES: dict[int, str] = {
    1: "Agent Circuit ID",
    2: "Agent Remote ID",
    5: "Link Selection",
    6: "Subscriber ID",
    11: "Server Identifier Override",
    12: "Relay Agent Identifier",
}

#: UDP ports of DHCP (RFC 2131 §4.1): servers and relays listen on 67, clients on 68.
DHCP_SERVER_PORT = 67
DHCP_CLIENT_PORT = 68
DHCP_PORTS = (DHCP_SERVER_PORT, DHCP_CLIENT_PORT)

#: Client Identifier (option 61) type byte values with a meaning of their own.
CLIENT_ID_TYPE_ETHERNET = 1  # ARP hardware type 1: the value is a MAC address
CLIENT_ID_TYPE_RFC4361 = 255  # RFC 4361: IAID (4 bytes) followed by a DUID
