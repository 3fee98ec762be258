/* ENet client for the wire-compatibility test of package enet.
 * usage: cclient PORT CHANNELS DATA N BIGSIZE
 * Connects to 127.0.0.1:PORT with CHANNELS channels and connect data DATA,
 * sends N reliable packets on every channel ("c<ch> <i>" as text), one
 * reliable packet of BIGSIZE bytes (byte i = i*7 mod 251) on channel 0 and
 * N unsequenced packets, then expects the server to echo every reliable
 * packet in order. Prints "OK" and disconnects with data 99 on success. */
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *msg) { printf("FAIL %s\n", msg); fflush(stdout); return 1; }

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: cclient PORT CHANNELS DATA N BIGSIZE\n"); return 2; }
    int port = atoi(argv[1]), channels = atoi(argv[2]), n = atoi(argv[4]);
    enet_uint32 data = (enet_uint32)strtoul(argv[3], NULL, 10);
    size_t bigsize = (size_t)atol(argv[5]);
    if (enet_initialize() != 0) return fail("enet_initialize");
    ENetHost *host = enet_host_create(NULL, 1, (size_t)channels, 0, 0);
    if (!host) return fail("enet_host_create");
    ENetAddress addr;
    enet_address_set_host(&addr, "127.0.0.1");
    addr.port = (enet_uint16)port;
    ENetPeer *peer = enet_host_connect(host, &addr, (size_t)channels, data);
    if (!peer) return fail("enet_host_connect");
    int *next = calloc((size_t)channels, sizeof(int));
    int bigDone = bigsize == 0, connected = 0, done = 0;
    enet_uint32 start = enet_time_get();
    while (enet_time_get() - start < 60000) {
        ENetEvent ev;
        int r = enet_host_service(host, &ev, 20);
        if (r < 0) return fail("service");
        if (r == 0) continue;
        switch (ev.type) {
        case ENET_EVENT_TYPE_CONNECT: {
            connected = 1;
            printf("CONNECTED channels=%u\n", (unsigned)peer->channelCount);
            fflush(stdout);
            char buf[64];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < channels; c++) {
                    int len = snprintf(buf, sizeof buf, "c%d %d", c, i);
                    enet_peer_send(peer, (enet_uint8)c, enet_packet_create(buf, (size_t)len, ENET_PACKET_FLAG_RELIABLE));
                }
                int len = snprintf(buf, sizeof buf, "u %d", i);
                enet_peer_send(peer, 0, enet_packet_create(buf, (size_t)len, ENET_PACKET_FLAG_UNSEQUENCED));
            }
            if (bigsize > 0) {
                unsigned char *big = malloc(bigsize);
                for (size_t i = 0; i < bigsize; i++) big[i] = (unsigned char)((i * 7) % 251);
                enet_peer_send(peer, 0, enet_packet_create(big, bigsize, ENET_PACKET_FLAG_RELIABLE));
                free(big);
            }
            break;
        }
        case ENET_EVENT_TYPE_RECEIVE: {
            ENetPacket *p = ev.packet;
            if (p->flags & ENET_PACKET_FLAG_RELIABLE) {
                if (p->dataLength == bigsize && bigsize > 0) {
                    for (size_t i = 0; i < bigsize; i++)
                        if (p->data[i] != (unsigned char)((i * 7) % 251)) return fail("big packet corrupt");
                    bigDone = 1;
                } else {
                    char buf[64], want[64];
                    size_t len = p->dataLength < 63 ? p->dataLength : 63;
                    memcpy(buf, p->data, len);
                    buf[len] = 0;
                    snprintf(want, sizeof want, "c%d %d", ev.channelID, next[ev.channelID]);
                    if (strcmp(buf, want) != 0) {
                        printf("FAIL got %s want %s\n", buf, want);
                        fflush(stdout);
                        return 1;
                    }
                    next[ev.channelID]++;
                }
            }
            enet_packet_destroy(p);
            int all = bigDone;
            for (int c = 0; c < channels; c++) if (next[c] != n) all = 0;
            if (all && !done) {
                done = 1;
                printf("OK\n");
                fflush(stdout);
                enet_peer_disconnect(peer, 99);
            }
            break;
        }
        case ENET_EVENT_TYPE_DISCONNECT:
            printf("DISCONNECT data=%u\n", ev.data);
            fflush(stdout);
            enet_host_destroy(host);
            enet_deinitialize();
            return (done && connected) ? 0 : 1;
        default:
            break;
        }
    }
    return fail("timeout");
}
