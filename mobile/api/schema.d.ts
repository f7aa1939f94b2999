/* The backend API's component schemas, in openapi-typescript's layout. */
export interface components {
  schemas: {
    UserOut: {
      id: number;
      email: string;
      name: string;
      role: 'CLIENT' | 'BROKER' | 'INVESTOR' | 'ADMIN';
      status: 'PENDING' | 'ACTIVE' | 'BLOCKED' | 'REJECTED';
    };
    LoginOut: {
      accessToken: string;
      tokenType: 'Bearer';
      expiresIn: number;
      user: components['schemas']['UserOut'];
    };
    ConnectionStatusOut: {
      connected: boolean;
      hasTokens: boolean;
      domain: string | null;
      accountId: number | null;
      state: 'not_connected' | 'connected' | 'reauth_required';
      reason: string | null;
      amoUserId: number | null;
      amoUserName: string | null;
      connectedAt: string | null;
    };
    AuthorizeIn: { client?: 'native' | 'web' };
    AuthorizeOut: { authorizeUrl: string; expiresAt: string };
    ExchangeCodeIn: { code: string; state: string; referer: string; platform?: string | null };
    LeadOut: {
      id: number;
      name: string;
      price: number | null;
      stageId: number;
      pipelineId: number;
      responsibleUserId: number | null;
      responsibleUserName: string | null;
      contactName: string | null;
      contactPhone: string | null;
      updatedAt: string;
    };
    LeadPageOut: { items: components['schemas']['LeadOut'][]; page: number; hasMore: boolean };
    StageOut: {
      id: number;
      name: string;
      color: string;
      sort: number;
      type: 'open' | 'won' | 'lost';
    };
    PipelineOut: {
      id: number;
      name: string;
      sort: number;
      isMain: boolean;
      stages: components['schemas']['StageOut'][];
    };
  };
}
