/* ENet echo server for the wire-compatibility test of package enet.
 * usage: cserver CHANNEL_LIMIT
 * Binds 127.0.0.1:0, prints "PORT n", echoes every packet back on its
 * channel with its reliability, prints CONNECT/DISCONNECT lines and exits
 * after the first disconnect (0) or after 60 s (1). */
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: cserver CHANNEL_LIMIT\n"); return 2; }
    if (enet_initialize() != 0) { fprintf(stderr, "enet_initialize failed\n"); return 1; }
    ENetAddress addr;
    enet_address_set_host(&addr, "127.0.0.1");
    addr.port = 0;
    ENetHost *host = enet_host_create(&addr, 8, (size_t)atoi(argv[1]), 0, 0);
    if (!host) { fprintf(stderr, "enet_host_create failed\n"); return 1; }
    ENetAddress bound;
    if (enet_socket_get_address(host->socket, &bound) != 0) { fprintf(stderr, "get_address failed\n"); return 1; }
    printf("PORT %u\n", bound.port);
    fflush(stdout);
    enet_uint32 start = enet_time_get();
    unsigned long received = 0;
    while (enet_time_get() - start < 60000) {
        ENetEvent ev;
        int r = enet_host_service(host, &ev, 50);
        if (r < 0) { fprintf(stderr, "service error\n"); return 1; }
        if (r == 0) continue;
        switch (ev.type) {
        case ENET_EVENT_TYPE_CONNECT:
            printf("CONNECT data=%u channels=%u\n", ev.data, (unsigned)ev.peer->channelCount);
            fflush(stdout);
            break;
        case ENET_EVENT_TYPE_RECEIVE: {
            received++;
            enet_uint32 flags = ev.packet->flags & (ENET_PACKET_FLAG_RELIABLE | ENET_PACKET_FLAG_UNSEQUENCED);
            ENetPacket *echo = enet_packet_create(ev.packet->data, ev.packet->dataLength, flags);
            enet_peer_send(ev.peer, ev.channelID, echo);
            enet_packet_destroy(ev.packet);
            break;
        }
        case ENET_EVENT_TYPE_DISCONNECT:
            printf("DISCONNECT data=%u received=%lu\n", ev.data, received);
            fflush(stdout);
            enet_host_flush(host);
            enet_host_destroy(host);
            enet_deinitialize();
            return 0;
        default:
            break;
        }
    }
    printf("TIMEOUT\n");
    return 1;
}
