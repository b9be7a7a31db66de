/** The certificate list: names, issuer, expiry with days left in colour, active and expired badges. */
import { Badge, Button, Group, Stack, Table, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import type { Certificate } from '../../api/certificates.ts';
import { formatDate } from '../format.ts';
import { FIT } from '../rules/kinds.ts';
import { commonName, KIND_LABELS } from './describe.ts';
import { daysLeft, daysLeftText, expiryColor } from './expiry.ts';

export interface CertificatesTableProps {
  certificates: Certificate[];
  busyId: string | null;
  onActivate: (certificate: Certificate) => void;
  onRemove: (certificate: Certificate) => void;
}

export function CertificatesTable({ certificates, busyId, onActivate, onRemove }: CertificatesTableProps) {
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="certificates-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Names</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Issuer</Table.Th>
            <Table.Th>Not after</Table.Th>
            <Table.Th>Days left</Table.Th>
            <Table.Th>Key</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {certificates.map((certificate) => {
            const days = daysLeft(certificate.notAfter);
            const servable = certificate.kind !== 'ca' && !certificate.expired;
            return (
              <Table.Tr
                key={certificate.id}
                data-testid="certificate-row"
                data-certificate-id={certificate.id}
                data-fingerprint={certificate.fingerprint}
                data-names={certificate.names.join(',')}
              >
                <Table.Td>
                  <Stack gap={2}>
                    <Group gap={6}>
                      <Text fw={600} size="sm" data-testid="certificate-names">
                        {certificate.kind === 'ca'
                          ? commonName(certificate.subject)
                          : certificate.names.join(', ') || commonName(certificate.subject)}
                      </Text>
                      {certificate.active && (
                        <Badge miw={FIT} color="blue" data-testid="certificate-active">
                          active
                        </Badge>
                      )}
                      {certificate.expired && (
                        <Badge miw={FIT} color="red">
                          expired
                        </Badge>
                      )}
                    </Group>
                    <Tooltip label={`SHA-256 ${certificate.fingerprint}`} multiline w={320}>
                      <Text size="xs" c="dimmed" ff="monospace" tabIndex={0}>
                        {certificate.fingerprint.slice(0, 23)}…
                      </Text>
                    </Tooltip>
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Badge miw={FIT} variant="light" color={certificate.kind === 'ca' ? 'grape' : 'gray'}>
                    {KIND_LABELS[certificate.kind]}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Text size="sm" lineClamp={1} maw={220}>
                    {commonName(certificate.issuer)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Tooltip label={formatDate(certificate.notAfter)}>
                    <Text size="sm" style={{ whiteSpace: 'nowrap' }} tabIndex={0}>
                      {new Date(certificate.notAfter).toLocaleDateString()}
                    </Text>
                  </Tooltip>
                </Table.Td>
                <Table.Td>
                  <Badge miw={FIT} color={expiryColor(days)} variant="light" data-testid="certificate-days">
                    {daysLeftText(days)}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                    {certificate.keyType.toUpperCase()}{' '}
                    {certificate.keyType === 'ecdsa' ? 'P-256' : certificate.keyBits}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Group gap={4} justify="flex-end" wrap="nowrap">
                    {servable && !certificate.active && (
                      <Button
                        size="xs"
                        variant="light"
                        loading={busyId === certificate.id}
                        onClick={() => onActivate(certificate)}
                        data-testid="certificate-activate"
                      >
                        Activate
                      </Button>
                    )}
                    {!certificate.active && certificate.kind !== 'self-signed' && (
                      <Button
                        size="xs"
                        variant="light"
                        color="red"
                        onClick={() => onRemove(certificate)}
                        data-testid="certificate-remove"
                      >
                        Remove
                      </Button>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
